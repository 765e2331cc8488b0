export { describeTopics, ensureTopics } from './admin.ts';
export type { EnsureTopicsOptions, TopicDescription, TopicSpec } from './admin.ts';
export { createClusterReader } from './cluster.ts';
export type { ClusterReader, ClusterView, GroupView, TopicView } from './cluster.ts';
export { createConsumer } from './consumer.ts';
export type { BatchHandler, EventConsumer } from './consumer.ts';
export { RECONNECT_RETRY_POLICY } from './consumer-settings.ts';
export type { ConsumerSettings } from './consumer-settings.ts';
export type { IncomingBatch, IncomingRecord, PartitionLag } from './records.ts';
export { KafkaErrorCodes, toKafkaError } from './errors.ts';
export type { KafkaErrorCode } from './errors.ts';
export type { KafkaConnectionOptions, SaslMechanism } from './options.ts';
export { readTopic } from './reader.ts';
export type { PartitionRange, ReadTopicOptions, TopicReadSummary } from './reader.ts';
export { createProducer } from './producer.ts';
export type {
  Acks,
  Compression,
  EventProducer,
  OutgoingRecord,
  ProducerSettings,
  RawOutgoingRecord,
} from './producer.ts';
export { createGroupLagReader } from './group-lag.ts';
export type { GroupLagReader, GroupPartitionLag } from './group-lag.ts';
export { groupMembers, resetGroupOffsets, topicOffsets } from './group-offsets.ts';
export type { OffsetSpec, PartitionOffsets } from './group-offsets.ts';
export {
  looksLikeOffsets,
  parsePartitionOffsets,
  parseTopicPosition,
  parseTopicTime,
} from './positions.ts';
export type { TopicPosition } from './positions.ts';
export { createRangeConsumer } from './range-consumer.ts';
export type { RangeConsumer, RangeConsumerOptions, RangeReadSummary } from './range-consumer.ts';
