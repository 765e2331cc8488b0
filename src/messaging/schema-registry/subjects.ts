/**
 * Which subjects the contract's schemas go to: the record-name strategy, `<topic>-<record name>`
 * (e.g. `inventory-events-inventory.low_stock`), because several event types share a topic and
 * each evolves on its own. Topics are deployment config (KAFKA_INVENTORY_TOPIC renames the
 * subjects with the topic), so the mapping lives here, not in the contract.
 */
import { eventSchemas, subjectName } from '../../contract/index.ts';
import type { EventSchema } from '../../contract/index.ts';
import type { KafkaSettings } from '../../platform/index.ts';

/**
 * FULL_TRANSITIVE, not the BACKWARD_TRANSITIVE a registry defaults to. BACKWARD only asks that
 * the new schema read old data, and with open JSON objects removing a required field passes that
 * test (the new reader ignores it) while every consumer still on the old schema breaks on the new
 * events. Our producers upgrade independently of their consumers, and events are replayed from the
 * topics, so both directions matter, against every version (TRANSITIVE): adding an optional field
 * passes, removing or retyping a field, or making one required, does not. Checked against Apicurio
 * 3.3.3: BACKWARD_TRANSITIVE accepts a removed required field, FULL_TRANSITIVE refuses it.
 */
export const SCHEMA_COMPATIBILITY = 'FULL_TRANSITIVE';

export interface SchemaSubject extends EventSchema {
  subject: string;
  topic: string;
}

/** The topic each bounded context publishes to: the prefix of its event types. */
function topicOf(kafka: KafkaSettings, eventType: string): string {
  const context = eventType.slice(0, eventType.indexOf('.'));
  if (context === 'inventory') return kafka.inventoryTopic;
  if (context === 'sales') return kafka.salesTopic;
  // A new bounded context needs its topic here before its events can be registered.
  throw new RangeError(`no topic is configured for the events of "${context}" (${eventType})`);
}

/** Every subject of the contract; only those on `topics` when given (what a service publishes). */
export function schemaSubjects(kafka: KafkaSettings, topics?: readonly string[]): SchemaSubject[] {
  return eventSchemas()
    .map((s) => {
      const topic = topicOf(kafka, s.eventType);
      return { ...s, topic, subject: subjectName(topic, s.recordName) };
    })
    .filter((s) => topics === undefined || topics.includes(s.topic));
}

/**
 * The key of an event's schema id in the relay's map: its type and the major of its version
 * (`inventory.low_stock@1`), read from the outbox row's headers without parsing the envelope.
 */
export function schemaIdKey(eventType: string, eventVersion: string): string {
  const dot = eventVersion.indexOf('.');
  return schemaIdKeyOf(eventType, dot < 0 ? eventVersion : eventVersion.slice(0, dot));
}

export const schemaIdKeyOf = (eventType: string, major: number | string): string =>
  `${eventType}@${major}`;
