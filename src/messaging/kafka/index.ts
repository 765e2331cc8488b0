export { describeTopics, ensureTopics } from './admin.ts';
export type { EnsureTopicsOptions, TopicDescription, TopicSpec } from './admin.ts';
export { createConsumer } from './consumer.ts';
export type {
  BatchHandler,
  ConsumerSettings,
  EventConsumer,
  IncomingBatch,
  IncomingRecord,
  PartitionLag,
} from './consumer.ts';
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
