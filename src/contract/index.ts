export { asyncApiDocument } from './asyncapi.ts';
export type { AsyncApiOptions, EventContext } from './asyncapi.ts';
export {
  checkEnvelope,
  decodeEnvelope,
  decodeEvent,
  encodeEvent,
  createEvent,
  kafkaHeadersFor,
} from './codec.ts';
export type {
  CreateEventOptions,
  DecodedEvent,
  KnownDecodedEvent,
  UnknownDecodedEvent,
} from './codec.ts';
export {
  CURRENT_EVENT_VERSION,
  SUPPORTED_MAJOR_VERSION,
  EVENT_TYPE_PATTERN,
  EVENT_VERSION_PATTERN,
  TENANT_ID_PATTERN,
  envelopeSchema,
  metadataSchema,
  tenantIdSchema,
  majorVersionOf,
} from './envelope.ts';
export type { Envelope, Metadata } from './envelope.ts';
export { CONTRACT_ERROR_CODES, ContractError, isContractError } from './errors.ts';
export { messageKeyOf } from './keys.ts';
export { boundedText, idSchema, inputText, isStorableText, LIMITS } from './limits.ts';
export type { ContractErrorCode, ContractErrorOptions, ContractIssue } from './errors.ts';
export {
  PRIORITIES,
  prioritySchema,
  priorityRank,
  maxPriority,
  computePriority,
} from './priority.ts';
export type { Priority, PriorityInput } from './priority.ts';
export { EVENT_TYPES, EVENT_REGISTRY, ORDER_EVENT_TYPES, isEventType } from './registry.ts';
export type {
  AnyEvent,
  EventDefinition,
  EventOf,
  EventType,
  PayloadInputOf,
  PayloadOf,
} from './registry.ts';
export {
  lowStockPayloadSchema,
  productCreatedPayloadSchema,
  stockAdjustedPayloadSchema,
} from './events/inventory.ts';
export type {
  LowStockPayload,
  ProductCreatedPayload,
  StockAdjustedPayload,
} from './events/inventory.ts';
export { lowStockAlertRaisedPayloadSchema } from './events/sales.ts';
export {
  orderCancelledPayloadSchema,
  orderFulfilledPayloadSchema,
  orderLineSchema,
  orderPlacedPayloadSchema,
  shortLineSchema,
  stockReleasedPayloadSchema,
  stockReservationRejectedPayloadSchema,
  stockReservedPayloadSchema,
} from './events/saga.ts';
export type {
  OrderCancelledPayload,
  OrderFulfilledPayload,
  OrderLinePayload,
  OrderPlacedPayload,
  StockReleasedPayload,
  StockReservationRejectedPayload,
  StockReservedPayload,
} from './events/saga.ts';
export type { LowStockAlertRaisedPayload } from './events/sales.ts';
export { eventJsonSchema, eventSchemas, recordNameOf, subjectName } from './json-schema.ts';
export type { EventSchema, JsonSchema } from './json-schema.ts';
export { describeChange, diffSchemas } from './schema-diff.ts';
export type { SchemaChange, SchemaChangeKind } from './schema-diff.ts';
export { CONTRACT_UPCASTERS, defineUpcasters } from './upcasters.ts';
export type { Upcast, UpcasterStep, Upcasters } from './upcasters.ts';
