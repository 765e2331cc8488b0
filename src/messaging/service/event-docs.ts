/**
 * The AsyncAPI document of the deployment: the contract's (src/contract/asyncapi.ts) with the
 * topics, partitions, consumer group and brokers of the configuration, and the dead-letter topics
 * of the kit's inbox consumer. Every service serves it at /docs/asyncapi.json and the CLI prints
 * it (`docs asyncapi`): one function, so the two cannot disagree.
 */
import { asyncApiDocument } from '../../contract/index.ts';
import type { Config } from '../../platform/index.ts';
import { DLQ_SUFFIX } from './definition.ts';

/** The headers a dead letter adds (dead-letter.ts); test/messaging/service/event-docs.test.ts keeps the two in step. */
export const DEAD_LETTER_HEADERS: Readonly<Record<string, string>> = {
  'dlq.original.topic': 'Topic the record was consumed from.',
  'dlq.original.partition': 'Its partition.',
  'dlq.original.offset': 'Its offset.',
  'dlq.original.timestamp': 'Its Kafka timestamp, milliseconds since the epoch.',
  'dlq.consumer.group': 'Consumer group that gave up on it.',
  'dlq.error.code': 'Stable error code (ERP_*), see docs/errors.md.',
  'dlq.error.message': 'Error message, at most 1 KiB of UTF-8.',
  'dlq.error.retryable': '"true" when the failure was transient (retries ran out), else "false".',
  'dlq.attempts': 'Times processing was tried.',
  'dlq.first.failure': 'First failure, ISO-8601.',
  'dlq.last.failure': 'Last failure, ISO-8601.',
};

export function eventDocsFor(config: Config): Record<string, unknown> {
  const { kafka } = config;
  const secure = kafka.sasl !== undefined || kafka.tls !== undefined;
  return asyncApiDocument({
    topics: { inventory: kafka.inventoryTopic, sales: kafka.salesTopic },
    consumerGroup: kafka.consumerGroup,
    inventoryConsumerGroup: kafka.inventoryConsumerGroup,
    partitions: kafka.topicPartitions,
    replicas: kafka.topicReplicationFactor,
    servers: kafka.bootstrapServers.map((host) => ({
      host,
      protocol: secure ? 'kafka-secure' : 'kafka',
    })),
    deadLetters: { suffix: DLQ_SUFFIX, headers: DEAD_LETTER_HEADERS },
  });
}
