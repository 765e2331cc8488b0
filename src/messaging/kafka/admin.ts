import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, findErrorBy } from '@platformatic/kafka';
import { AppError } from '../../platform/index.ts';
import {
  KafkaErrorCodes,
  kafkaConfigError,
  toKafkaError,
  topicMismatchError,
  topicNotReadyError,
} from './errors.ts';
import { toLibraryConnectionOptions, type KafkaConnectionOptions } from './options.ts';

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs such as `cleanup.policy` or `min.insync.replicas`. Default: broker defaults. */
  configs?: Record<string, string>;
}

export interface EnsureTopicsOptions {
  /** How long to wait for every partition to have a leader. Default: 30000. */
  readyTimeoutMs?: number;
}

/**
 * Creates the topics that do not exist yet and waits until metadata shows a leader for every
 * partition. Existing topics are left as they are (configs are not reconciled), but one with fewer
 * partitions than declared is an error: per-key ordering assumes the declared count.
 * Safe to run concurrently from several processes.
 */
export async function ensureTopics(
  conn: KafkaConnectionOptions,
  topics: TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<void> {
  topics.forEach(validateSpec);
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  if (topics.length === 0) return;
  let admin: Admin;
  try {
    admin = new Admin(toLibraryConnectionOptions(conn));
  } catch (err) {
    throw toKafkaError(err);
  }
  try {
    // One request per topic: the library applies one `configs` list to every topic of a request,
    // and one already existing topic would fail the whole request.
    await Promise.all(
      topics.map(async (spec) => {
        // Look before creating: on a broker with ACLs a service may describe, read or write its
        // topics but not create them (an admin did), and Kafka refuses CreateTopics without
        // CREATE even for a topic that exists.
        if ((await topicState(admin, spec.name)) === null) await createIfMissing(admin, spec);
      }),
    );
    await waitForLeaders(admin, topics, readyTimeoutMs);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export interface TopicDescription {
  name: string;
  partitions: number;
  /** True when every partition has a leader, i.e. the topic can be produced to and consumed. */
  ready: boolean;
}

/** Current metadata of the named topics; topics the cluster does not know are left out. */
export async function describeTopics(
  conn: KafkaConnectionOptions,
  names: string[],
): Promise<TopicDescription[]> {
  let admin: Admin;
  try {
    admin = new Admin(toLibraryConnectionOptions(conn));
  } catch (err) {
    throw toKafkaError(err);
  }
  try {
    const result: TopicDescription[] = [];
    for (const name of names) {
      const state = await topicState(admin, name);
      if (state !== null)
        result.push({ name, partitions: state.partitions, ready: state.allLeaders });
    }
    return result;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

function validateSpec(spec: TopicSpec, i: number): void {
  if (typeof spec.name !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(spec.name)) {
    throw kafkaConfigError(`topics[${i}].name`, 'must match [a-zA-Z0-9._-]{1,249}');
  }
  if (!Number.isInteger(spec.partitions) || spec.partitions <= 0) {
    throw kafkaConfigError(`topics[${i}].partitions`, 'must be a positive integer');
  }
  if (!Number.isInteger(spec.replicationFactor) || spec.replicationFactor <= 0) {
    throw kafkaConfigError(`topics[${i}].replicationFactor`, 'must be a positive integer');
  }
}

async function createIfMissing(admin: Admin, spec: TopicSpec): Promise<void> {
  try {
    await admin.createTopics({
      topics: [spec.name],
      partitions: spec.partitions,
      replicas: spec.replicationFactor,
      configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
    });
  } catch (err) {
    // Exists already, possibly created a moment ago by a concurrent caller or by our own
    // retried request whose first response was lost.
    if (err instanceof Error && findErrorBy(err, 'apiId', 'TOPIC_ALREADY_EXISTS')) return;
    const known = toKafkaError(err);
    if (known.code !== KafkaErrorCodes.AUTHORIZATION) throw known;
    throw new AppError(
      KafkaErrorCodes.AUTHORIZATION,
      `topic ${spec.name} does not exist and this principal may not create it: ` +
        `have an admin create it (${known.message})`,
      { retryable: false, cause: err, context: { topic: spec.name } },
    );
  }
}

async function waitForLeaders(admin: Admin, specs: TopicSpec[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = specs.map((s) => s.name);
  let delay = 50;
  for (;;) {
    const notReady: string[] = [];
    for (const spec of specs.filter((s) => pending.includes(s.name))) {
      const state = await topicState(admin, spec.name);
      if (state !== null && state.partitions < spec.partitions) {
        throw topicMismatchError(spec.name, spec.partitions, state.partitions);
      }
      if (state === null || !state.allLeaders) notReady.push(spec.name);
    }
    pending = notReady;
    if (pending.length === 0) return;
    if (Date.now() >= deadline) throw topicNotReadyError(pending, timeoutMs);
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
}

/** null while the broker does not know the topic yet (metadata propagates asynchronously). */
async function topicState(
  admin: Admin,
  topic: string,
): Promise<{ partitions: number; allLeaders: boolean } | null> {
  try {
    // retries: 0 because the loop above retries; the library would wait 3 x 1 s per unknown topic.
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true, retries: 0 });
    const info = metadata.topics.get(topic);
    if (info === undefined) return null;
    return {
      partitions: info.partitionsCount,
      allLeaders: info.partitions.length > 0 && info.partitions.every((p) => p.leader >= 0),
    };
  } catch (err) {
    const known = toKafkaError(err);
    if (known.code === KafkaErrorCodes.UNKNOWN_TOPIC || known.retryable) return null;
    if (known.code === KafkaErrorCodes.AUTHORIZATION) {
      // Kafka answers so whether or not the topic exists, to hide which topics do.
      throw new AppError(
        KafkaErrorCodes.AUTHORIZATION,
        `this principal may not describe topic ${topic} (no ACL for it): ${known.message}`,
        { retryable: false, cause: err, context: { topic } },
      );
    }
    throw known;
  }
}
