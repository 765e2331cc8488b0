/**
 * Changed contracts for the schema registry tests: a deep copy of a generated JSON Schema with its
 * payload changed, so that a breaking change is tested without editing the contract.
 */
import type { JsonSchema } from '../../src/contract/index.ts';

export interface PayloadSchema {
  properties: Record<string, JsonSchema>;
  required: string[];
}

/** A copy of the event schema `schema` whose payload `change` has changed in place. */
export function withPayload(
  schema: JsonSchema,
  change: (payload: PayloadSchema) => void,
): JsonSchema {
  const copy = structuredClone(schema) as { properties: { payload: PayloadSchema } };
  change(copy.properties.payload);
  return copy;
}

/** Removes a required payload field. */
export const removeRequired =
  (field: string) =>
  (payload: PayloadSchema): void => {
    delete payload.properties[field];
    payload.required = payload.required.filter((f) => f !== field);
  };
