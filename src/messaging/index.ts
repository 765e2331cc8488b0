// The messaging layer: Kafka plumbing, the outbox and its relay, the inbox consumer and its router,
// dead letters, and the service kit that wires them into a service. Service-agnostic: it knows the
// contract and the platform, never a service.
export { deadLetterRecord, summarizeError } from './dead-letter.ts';
export type { DeadLetterOptions, ErrorSummary } from './dead-letter.ts';
export { MessagingErrorCodes } from './errors.ts';
export type { MessagingErrorCode } from './errors.ts';
export { createInboxConsumer } from './inbox/consumer.ts';
export type { InboxConsumer, InboxConsumerOptions } from './inbox/consumer.ts';
export { createPrometheusConsumerMetrics, noopConsumerMetrics } from './inbox/metrics.ts';
export type { ConsumerMetrics } from './inbox/metrics.ts';
export type { InboxTable } from './inbox/table.ts';
export { kafkaConnectionFrom } from './kafka/connection.ts';
export {
  createClusterReader,
  createConsumer,
  createGroupLagReader,
  createProducer,
  createRangeConsumer,
  ensureTopics,
  groupMembers,
  KafkaErrorCodes,
  looksLikeOffsets,
  parsePartitionOffsets,
  parseTopicPosition,
  parseTopicTime,
  readTopic,
  resetGroupOffsets,
  topicOffsets,
} from './kafka/index.ts';
export type {
  ClusterReader,
  ClusterView,
  ConsumerSettings,
  EventConsumer,
  GroupLagReader,
  EventProducer,
  IncomingBatch,
  IncomingRecord,
  KafkaConnectionOptions,
  OffsetSpec,
  OutgoingRecord,
  PartitionOffsets,
  PartitionRange,
  RangeConsumer,
  RangeConsumerOptions,
  RangeReadSummary,
  RawOutgoingRecord,
  ReadTopicOptions,
  TopicPosition,
  TopicReadSummary,
  TopicSpec,
} from './kafka/index.ts';
export { appendToOutbox, outboxHeadersFor } from './outbox/append.ts';
export { recordContextOf, traceHeadersOf } from './tracing.ts';
export type { OutboxRow } from './outbox/append.ts';
export { createPrometheusRelayMetrics } from './outbox/metrics.ts';
export { createOutboxRelay, RELAY_RETRY_POLICY } from './outbox/relay.ts';
export type { OutboxRelay, OutboxRelayOptions } from './outbox/relay.ts';
export type { OutboxSignal } from './outbox/signal.ts';
export type { OutboxTable } from './outbox/table.ts';
export { EventRouter } from './router.ts';
export {
  compatibilityOf,
  createSchemaRegistryClient,
  resolveSchemaIds,
  SCHEMA_COMPATIBILITY,
  SchemaRegistryErrorCodes,
  schemaIdKey,
  schemaSubjects,
} from './schema-registry/index.ts';
export type { SchemaRegistryClient, SchemaSubject } from './schema-registry/index.ts';
export type {
  BeforeRuns,
  ConsumedEvent,
  EventHandler,
  EventRouterOptions,
  HandlerContext,
} from './router.ts';
export { buildService } from './service/build.ts';
export type { Service, ServiceResources } from './service/build.ts';
export { defineService, DLQ_SUFFIX } from './service/definition.ts';
export type {
  ConsumedTopics,
  ServiceContext,
  ServiceDefinition,
  ServiceParts,
  Worker,
} from './service/definition.ts';
export { DEAD_LETTER_HEADERS, eventDocsFor } from './service/event-docs.ts';
export { runMain } from './service/main.ts';
export { listenForMetrics } from './service/metrics-listener.ts';
export type { MetricsListener } from './service/metrics-listener.ts';
export {
  openServiceDatabase,
  serviceConsumer,
  serviceMigrations,
  serviceTopics,
  startService,
} from './service/start.ts';
export type { StartedService, StartOptions } from './service/start.ts';
