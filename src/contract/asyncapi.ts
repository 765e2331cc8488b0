/**
 * The event contract as an AsyncAPI 3.0 document, generated from the zod schemas it is enforced
 * with, so the published description cannot drift from what producers write and consumers accept.
 * Pure: topic names, partitions, the consumer group and the brokers are deployment settings, given
 * by the caller (src/messaging/service/event-docs.ts reads them from the configuration).
 */
import { z } from 'zod';
import { createEvent, kafkaHeadersFor } from './codec.ts';
import { CURRENT_EVENT_VERSION, metadataSchema } from './envelope.ts';
import { idSchema } from './limits.ts';
import { messageKeyOf } from './keys.ts';
import { EVENT_REGISTRY, EVENT_TYPES, ORDER_EVENT_TYPES } from './registry.ts';
import type { EventType, PayloadInputOf } from './registry.ts';

/** The bounded context of an event type: the part before its first dot. */
export type EventContext = EventType extends `${infer C}.${string}` ? C : never;

/** Who publishes each context's events; `source_service` of every event they write. */
const PUBLISHERS: Record<EventContext, string> = {
  inventory: 'inventory-service',
  sales: 'sales-service',
};

/** Who reads which context's topic; `group` names its option holding the consumer group. */
const CONSUMERS: readonly {
  service: string;
  reads: EventContext;
  group: 'consumerGroup' | 'inventoryConsumerGroup';
}[] = [
  { service: 'sales-service', reads: 'inventory', group: 'consumerGroup' },
  { service: 'inventory-service', reads: 'sales', group: 'inventoryConsumerGroup' },
];

/** Version of the Kafka bindings the document uses (AsyncAPI 3.0 goes with 0.5.0). */
const KAFKA_BINDING_VERSION = '0.5.0';

export interface AsyncApiOptions {
  /** Topic of each context's events (KAFKA_INVENTORY_TOPIC, KAFKA_SALES_TOPIC). */
  topics: Record<EventContext, string>;
  /** Consumer group of Sales, reading the inventory topic (KAFKA_CONSUMER_GROUP). */
  consumerGroup: string;
  /**
   * Consumer group of Inventory, reading the sales topic for the order saga
   * (INVENTORY_CONSUMER_GROUP). Default: inventory-service-group.
   */
  inventoryConsumerGroup?: string;
  /** Partitions and replicas of the topics the services create. */
  partitions: number;
  replicas: number;
  /** Bootstrap brokers, `host:port`; `kafka-secure` under TLS or SASL. Default: none listed. */
  servers?: readonly { host: string; protocol: 'kafka' | 'kafka-secure' }[];
  /**
   * Where a consumer puts what it cannot apply: `<topic><suffix>`, the original key and value
   * with the extra headers described here (name → what it says). Default: no dead-letter topics.
   */
  deadLetters?: { suffix: string; headers: Readonly<Record<string, string>> };
}

/**
 * An example payload per event type, checked by createEvent each time the document is generated:
 * an example that the contract refuses throws instead of being published.
 */
const EXAMPLE_PAYLOADS: { [T in EventType]: PayloadInputOf<T> } = {
  'inventory.product_created': {
    product_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    product_sku: 'LAP-001',
    product_name: 'Laptop Computer',
    category: 'electronics',
    unit_price: 1200,
    quantity_on_hand: 100,
    reorder_level: 10,
    reorder_quantity: 50,
    location: 'Warehouse A',
  },
  'inventory.stock_adjusted': {
    product_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    product_sku: 'LAP-001',
    quantity_change: -92,
    quantity_before: 100,
    quantity_after: 8,
    reason: 'sale',
    adjustment_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  },
  'inventory.low_stock': {
    product_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    product_sku: 'LAP-001',
    product_name: 'Laptop Computer',
    current_stock: 8,
    reorder_level: 10,
    reorder_quantity: 50,
    unit_price: 1200,
    category: 'electronics',
    location: 'Warehouse A',
    days_of_stock_remaining: 2.6,
  },
  'sales.low_stock_alert_raised': {
    alert_id: '3d6f4a1e-2b7c-4e55-9a0b-6c1d2e3f4a5b',
    product_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    product_sku: 'LAP-001',
    product_name: 'Laptop Computer',
    current_stock: 8,
    reorder_level: 10,
    pending_order_quantity: 12,
    priority: 'critical',
    previous_priority: null,
    days_of_stock_remaining: 2.6,
    stockout_date: '2024-01-17',
    source_event_id: '5a3c1b2d-8e9f-4a0b-b1c2-d3e4f5a6b7c8',
  },
  'inventory.stock_reserved': {
    order_id: '9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d',
    lines: [{ product_id: '0f8fad5b-d9cb-469f-a165-70867728950e', quantity: 2 }],
  },
  'inventory.stock_reservation_rejected': {
    order_id: '9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d',
    reason: 'insufficient_stock',
    lines_short: [
      {
        product_id: '0f8fad5b-d9cb-469f-a165-70867728950e',
        requested: 2,
        available: 1,
        reason: 'insufficient_stock',
      },
    ],
  },
  'inventory.stock_released': {
    order_id: '9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d',
    reason: 'cancelled',
    lines: [{ product_id: '0f8fad5b-d9cb-469f-a165-70867728950e', quantity: 2 }],
  },
  'sales.order_placed': {
    order_id: '9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d',
    customer: 'ACME',
    lines: [{ product_id: '0f8fad5b-d9cb-469f-a165-70867728950e', quantity: 2 }],
  },
  'sales.order_cancelled': {
    order_id: '9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d',
    reason: 'customer',
  },
  'sales.order_fulfilled': {
    order_id: '9b2e4c6a-1d3f-4a5b-8c7d-0e1f2a3b4c5d',
    lines: [{ product_id: '0f8fad5b-d9cb-469f-a165-70867728950e', quantity: 2 }],
  },
};

/** Headers producers may add beyond the contract's (kafkaHeadersFor): optional to consumers. */
const OPTIONAL_HEADERS: Readonly<Record<string, string>> = {
  traceparent:
    'W3C Trace Context of the action that wrote the event, when tracing is on: the consumer continues its trace.',
  tracestate: 'W3C Trace Context vendor state, beside traceparent.',
  schema_id:
    'Id of the schema the value was written with, when the producer names one. Consumers go by the envelope either way.',
};

const HEADER_DESCRIPTIONS: Readonly<Record<string, string>> = {
  event_id: 'metadata.event_id: the id consumers deduplicate on.',
  event_type: 'metadata.event_type.',
  event_version: 'metadata.event_version, MAJOR.MINOR.',
  tenant_id:
    'metadata.tenant_id. A consumer dead-letters a record whose header and envelope differ.',
  correlation_id: 'metadata.correlation_id: the chain of events one action started.',
  ...OPTIONAL_HEADERS,
};

type JsonSchema = Record<string, unknown>;

/**
 * What goes over the wire, as JSON Schema draft-07 (the base of AsyncAPI's default schema
 * format). `input`: what a consumer accepts, before defaults are applied. Checks JSON Schema cannot
 * express (quantity_after = quantity_before + quantity_change) are in the descriptions only.
 */
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-7',
    io: 'input',
    unrepresentable: 'any',
  });
  return rest;
}

const isOrderEvent = (type: EventType) =>
  (ORDER_EVENT_TYPES as readonly EventType[]).includes(type);
const ref = (path: string) => ({ $ref: `#/${path}` });
const contextOf = (type: EventType) => type.split('.')[0] as EventContext;
const channelIdOf = (context: EventContext) => `${context}Events`;
/** `inventory.low_stock` v1 → `inventory.low_stock.v1`. */
const messageIdOf = (type: EventType, major: number) => `${type}.v${major}`;

function messageOf(type: EventType, major: number): JsonSchema {
  const example = createEvent(type, EXAMPLE_PAYLOADS[type], {
    tenantId: 'tenant-1',
    sourceService: PUBLISHERS[contextOf(type)],
    eventId: '9b2f7a3e-1c4d-4e5f-8a6b-7c8d9e0f1a2b',
    timestamp: '2024-01-15T10:00:00.000Z',
    correlationId: '9b2f7a3e-1c4d-4e5f-8a6b-7c8d9e0f1a2b',
    priority: type === EVENT_TYPES.lowStock ? 'high' : 'low',
  });
  const contractHeaders = kafkaHeadersFor(example);
  const envelope = z.looseObject({
    metadata: metadataSchema.extend({
      event_type: z.literal(type),
      event_version: z.string().regex(new RegExp(`^${major}\\.\\d+$`)),
    }),
    payload: EVENT_REGISTRY[type].payload,
  });
  return {
    name: type,
    title: `${type} v${major}`,
    summary: `${type}, any ${major}.x version, published by ${PUBLISHERS[contextOf(type)]}.`,
    contentType: 'application/json',
    headers: headersSchema(Object.keys(contractHeaders), type),
    payload: jsonSchemaOf(envelope),
    correlationId: {
      description: 'The chain of events one action started.',
      location: '$message.payload#/metadata/correlation_id',
    },
    bindings: {
      kafka: {
        key: {
          ...jsonSchemaOf(idSchema),
          description: isOrderEvent(type)
            ? 'payload.order_id: the steps of an order land on one partition, in order.'
            : 'payload.product_id: all events of a product land on one partition, in order.',
        },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
    examples: [
      {
        name: `${type}-example`,
        summary: `Key ${messageKeyOf(example)}`,
        headers: contractHeaders,
        payload: example,
      },
    ],
  };
}

function headersSchema(required: readonly string[], type?: EventType): JsonSchema {
  const names = [...new Set([...required, ...Object.keys(OPTIONAL_HEADERS)])];
  return {
    type: 'object',
    required: [...required],
    properties: Object.fromEntries(
      names.map((name) => [
        name,
        {
          type: 'string',
          description: HEADER_DESCRIPTIONS[name] ?? name,
          ...(name === 'event_type' && type !== undefined ? { const: type } : {}),
        },
      ]),
    ),
  };
}

function messagesOf(context: EventContext): [string, EventType, number][] {
  return (Object.keys(EVENT_REGISTRY) as EventType[])
    .filter((type) => contextOf(type) === context)
    .flatMap((type) =>
      EVENT_REGISTRY[type].majorVersions.map((major): [string, EventType, number] => [
        messageIdOf(type, major),
        type,
        major,
      ]),
    );
}

/** The AsyncAPI 3.0 document of every topic the services use. */
export function asyncApiDocument(options: AsyncApiOptions): JsonSchema {
  const contexts = Object.keys(PUBLISHERS) as EventContext[];
  const messages: Record<string, JsonSchema> = {};
  const channels: Record<string, JsonSchema> = {};
  const operations: Record<string, JsonSchema> = {};
  const topicBinding = (topic: string) => ({
    kafka: {
      topic,
      partitions: options.partitions,
      replicas: options.replicas,
      bindingVersion: KAFKA_BINDING_VERSION,
    },
  });
  for (const context of contexts) {
    const channelId = channelIdOf(context);
    const ids = messagesOf(context).map(([id, type, major]) => {
      messages[id] = messageOf(type, major);
      return id;
    });
    const topic = options.topics[context];
    channels[channelId] = {
      address: topic,
      title: topic,
      description: `Every event of ${PUBLISHERS[context]}, keyed by product_id (the order saga's by order_id). Consumers skip event types they do not know and accept any minor version of a major they read.`,
      messages: Object.fromEntries(ids.map((id) => [id, ref(`components/messages/${id}`)])),
      bindings: topicBinding(topic),
    };
    operations[`${context}Publishes`] = {
      action: 'send',
      title: `${PUBLISHERS[context]} publishes`,
      summary: `From its transactional outbox: an event exists exactly when its state change committed.`,
      channel: ref(`channels/${channelId}`),
      messages: ids.map((id) => ref(`channels/${channelId}/messages/${id}`)),
    };
  }
  for (const consumer of CONSUMERS) {
    const channelId = channelIdOf(consumer.reads);
    const ids = messagesOf(consumer.reads).map(([id]) => id);
    const groupBinding = {
      kafka: {
        groupId: {
          type: 'string',
          enum: [
            consumer.group === 'consumerGroup'
              ? options.consumerGroup
              : (options.inventoryConsumerGroup ?? 'inventory-service-group'),
          ],
        },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    };
    operations[`${camel(consumer.service)}Receives${capital(consumer.reads)}`] = {
      action: 'receive',
      title: `${consumer.service} consumes ${options.topics[consumer.reads]}`,
      summary: 'At least once; applied exactly once through the inbox (deduplicated by event_id).',
      channel: ref(`channels/${channelId}`),
      messages: ids.map((id) => ref(`channels/${channelId}/messages/${id}`)),
      bindings: groupBinding,
    };
    if (options.deadLetters === undefined) continue;
    const dlqId = `${channelId}DeadLetters`;
    const dlqTopic = `${options.topics[consumer.reads]}${options.deadLetters.suffix}`;
    const dlqMessageId = `${consumer.reads}.dead_letter`;
    messages[dlqMessageId] = deadLetterMessage(options.deadLetters.headers);
    channels[dlqId] = {
      address: dlqTopic,
      title: dlqTopic,
      description: `Records of ${options.topics[consumer.reads]} that ${consumer.service} could not apply (invalid, or failing after its retries): key and value bytes untouched, so that \`npm run cli -- dlq redrive\` can send them back once fixed.`,
      messages: { [dlqMessageId]: ref(`components/messages/${dlqMessageId}`) },
      bindings: topicBinding(dlqTopic),
    };
    operations[`${camel(consumer.service)}DeadLetters${capital(consumer.reads)}`] = {
      action: 'send',
      title: `${consumer.service} dead-letters`,
      channel: ref(`channels/${dlqId}`),
      messages: [ref(`channels/${dlqId}/messages/${dlqMessageId}`)],
      bindings: groupBinding,
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'erp-events topics',
      version: CURRENT_EVENT_VERSION,
      description: [
        'Events of the ERP services on Apache Kafka. Every value is a JSON envelope `{ metadata, payload }`; the record key is `payload.product_id`, or `payload.order_id` for the order saga’s events.',
        'Tenancy: every event carries `metadata.tenant_id` (also a header); consumers apply it in that tenant only.',
        'Versioning: `metadata.event_version` is MAJOR.MINOR; minors only add fields, so consumers accept any minor of a major they read and ignore fields they do not know; another major is dead-lettered (ERP_EVT_UNSUPPORTED_VERSION).',
        'Generated from the zod schemas of src/contract.',
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    ...(options.servers === undefined || options.servers.length === 0
      ? {}
      : {
          servers: Object.fromEntries(
            options.servers.map((s, i) => [
              `broker${i + 1}`,
              { host: s.host, protocol: s.protocol, description: 'Kafka bootstrap broker' },
            ]),
          ),
        }),
    channels,
    operations,
    components: { messages },
  };
}

function deadLetterMessage(extraHeaders: Readonly<Record<string, string>>): JsonSchema {
  const headers = headersSchema([]);
  return {
    name: 'dead_letter',
    title: 'Dead letter',
    summary: 'The original record (key, value and headers) with headers saying why it failed.',
    headers: {
      ...headers,
      required: Object.keys(extraHeaders),
      properties: {
        ...(headers.properties as JsonSchema),
        ...Object.fromEntries(
          Object.entries(extraHeaders).map(([name, description]) => [
            name,
            { type: 'string', description },
          ]),
        ),
      },
    },
    payload: {
      description:
        'The original value, byte for byte: usually an event envelope, but anything the consumer could not read lands here too.',
    },
    bindings: {
      kafka: {
        key: { type: 'string', description: 'The original key.' },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** `sales-service` → `salesService`. */
const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
