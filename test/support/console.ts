/**
 * The console in a test, in front of a test system's two services (listening on free ports):
 * AUTH_MODE=dev with the process's test issuer, so `testIssuer().token(...)` signs in.
 */
import { encodeEvent, kafkaHeadersFor } from '../../src/contract/index.ts';
import type { EventOf, EventType } from '../../src/contract/index.ts';
import { buildConsole, consoleSettings } from '../../src/console/index.ts';
import type { Console } from '../../src/console/index.ts';
import { createProducer } from '../../src/messaging/index.ts';
import { createLogger, loadServiceConfig } from '../../src/platform/index.ts';
import { testIssuer } from './auth.ts';
import type { Cleanup } from './database.ts';
import type { TestSystem } from './system.ts';

export interface TestConsole {
  console: Console;
  /** http://127.0.0.1:<port> */
  base: string;
}

export async function startTestConsole(
  t: Cleanup,
  system: TestSystem,
  env: Record<string, string> = {},
): Promise<TestConsole> {
  const inventoryUrl = await system.inventory.http.listen({ host: '127.0.0.1', port: 0 });
  const salesUrl = await system.sales.http.listen({ host: '127.0.0.1', port: 0 });
  const issuer = await testIssuer();
  const { config, settings } = loadServiceConfig(consoleSettings, {
    KAFKA_BOOTSTRAP_SERVERS: system.config.kafka.bootstrapServers.join(','),
    KAFKA_INVENTORY_TOPIC: system.config.kafka.inventoryTopic,
    KAFKA_SALES_TOPIC: system.config.kafka.salesTopic,
    KAFKA_CONSUMER_GROUP: system.consumerGroup,
    DATA_DIR: issuer.dataDir,
    CONSOLE_INVENTORY_URL: inventoryUrl,
    CONSOLE_SALES_URL: salesUrl,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  });
  const console_ = await buildConsole({
    config,
    settings,
    authenticator: issuer.authenticator,
    logger: createLogger('console', config.logLevel),
  });
  await console_.start();
  const base = await console_.http.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => console_.stop());
  return { console: console_, base };
}

/** Writes `event` to the inventory topic's dead-letter topic as Sales' consumer would have. */
export async function writeDeadLetter(
  system: TestSystem,
  event: EventOf<EventType>,
  key: string,
): Promise<void> {
  const inventoryTopic = system.config.kafka.inventoryTopic;
  const producer = createProducer({ ...system.conn, clientId: 'test-console-dlq' });
  try {
    await producer.send([
      {
        topic: `${inventoryTopic}.dlq`,
        key: Buffer.from(key),
        value: encodeEvent(event),
        headers: {
          ...kafkaHeadersFor(event),
          'dlq.original.topic': inventoryTopic,
          'dlq.original.partition': '0',
          'dlq.original.offset': '0',
          'dlq.consumer.group': system.consumerGroup,
          'dlq.error.code': 'ERP_TEST_POISONED',
          'dlq.error.message': 'written by the console test',
          'dlq.error.retryable': 'false',
          'dlq.attempts': '1',
        },
      },
    ]);
  } finally {
    await producer.close();
  }
}

export interface ConsoleAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Calls the console's API as an operator: an ops token of `tenant` (undefined: bound to none). */
export async function consoleClient(
  base: string,
  tenant: string | undefined,
): Promise<(path: string, body?: unknown) => Promise<ConsoleAnswer>> {
  const token = await (await testIssuer()).token(tenant, ['ops']);
  return async (path, body) => {
    const res = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
}

/** The error code of an answer. */
export const codeOf = (answer: ConsoleAnswer): string =>
  (answer.body['error'] as { code: string }).code;
