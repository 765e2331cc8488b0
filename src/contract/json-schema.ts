/**
 * The contract as JSON Schema, for a schema registry: one schema per event type and major
 * version, generated from the very zod schemas events are created and decoded with, so that what
 * the registry holds cannot drift from what the code accepts.
 *
 * Draft-07, not zod's default 2020-12: Apicurio Registry 3.3 (our Confluent-compatible registry)
 * registers a 2020-12 schema but its compatibility check fails on it ("could not determine
 * version"); every keyword the contract uses means the same in draft-07.
 */
import { z } from 'zod';
import { metadataSchema } from './envelope.ts';
import { EVENT_REGISTRY } from './registry.ts';
import type { EventType } from './registry.ts';

/** A JSON Schema document (or subschema) as plain JSON. */
export type JsonSchema = { [key: string]: unknown };

export interface EventSchema {
  eventType: EventType;
  major: number;
  /**
   * The record name of its subjects (`<topic>-<record name>`, the record-name strategy): the
   * event type for major 1, `<type>.v<major>` after, since a new major is by definition
   * incompatible and must not be checked against the old one's history.
   */
  recordName: string;
  schema: JsonSchema;
}

const OPTIONS = { target: 'draft-7', io: 'input', unrepresentable: 'any' } as const;

/**
 * A pipe shows one side only (its input, with io 'input'): `boundedText(64).pipe(min(1))` would
 * lose its minLength. Both sides describe the same JSON value, so the output side's keywords that
 * the input side lacks are added.
 */
function mergePipes(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void {
  const def = ctx.zodSchema._zod.def;
  if (def.type !== 'pipe' || def.in._zod.def.type === 'transform') return;
  const { $schema: _ignored, ...out } = z.toJSONSchema(def.out, OPTIONS) as JsonSchema;
  for (const [key, value] of Object.entries(out)) {
    if (!(key in ctx.jsonSchema)) ctx.jsonSchema[key] = value;
  }
}

export function recordNameOf(eventType: EventType, major: number): string {
  return major === 1 ? eventType : `${eventType}.v${major}`;
}

/**
 * The record value of `eventType` at `major`: the `{ metadata, payload }` envelope, its
 * `event_type` pinned to the type and its `event_version` to the major. Objects stay open
 * (`additionalProperties: {}`) like the zod schemas, so that a minor version may add fields.
 * Refinements (`quantity_after = quantity_before + quantity_change`) have no JSON Schema form and
 * are left out: the registry checks shapes, `decodeEvent` still checks everything.
 */
export function eventJsonSchema(eventType: EventType, major: number): JsonSchema {
  const definition = EVENT_REGISTRY[eventType];
  if (!(definition.majorVersions as readonly number[]).includes(major)) {
    throw new RangeError(`${eventType} has no major version ${major}`);
  }
  const envelope = z.looseObject({
    metadata: metadataSchema.extend({
      event_type: z.literal(eventType),
      event_version: z
        .string()
        .max(20)
        .regex(new RegExp(`^${major}\\.(\\d+)$`)),
    }),
    payload: definition.payload,
  });
  return z.toJSONSchema(envelope, { ...OPTIONS, override: mergePipes });
}

/** Every event type at every major version the contract reads, in registry order. */
export function eventSchemas(): EventSchema[] {
  return (Object.keys(EVENT_REGISTRY) as EventType[]).flatMap((eventType) =>
    EVENT_REGISTRY[eventType].majorVersions.map((major) => ({
      eventType,
      major,
      recordName: recordNameOf(eventType, major),
      schema: eventJsonSchema(eventType, major),
    })),
  );
}

/** The record-name strategy's subject: several event types share a topic, each its own subject. */
export function subjectName(topic: string, recordName: string): string {
  return `${topic}-${recordName}`;
}
