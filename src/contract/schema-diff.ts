/**
 * Field-by-field differences between two JSON Schemas of an event (what a registry holds and what
 * the contract generates now), for `schemas diff` and for naming the field when `schemas check`
 * finds the change incompatible: a registry says yes or no, an operator needs the field.
 *
 * `breaking` is judged as the registry's FULL_TRANSITIVE does (see schema-registry/subjects.ts in
 * messaging): a change is safe only if readers of either schema can read data of the other. The
 * objects are open (additional properties allowed), so adding or removing an optional field is
 * safe and anything else that changes what a field accepts is not.
 */
import type { JsonSchema } from './json-schema.ts';

export type SchemaChangeKind =
  'added' | 'removed' | 'type changed' | 'now required' | 'no longer required' | 'changed';

export interface SchemaChange {
  /** Dotted from the envelope's root, e.g. `payload.current_stock`. */
  field: string;
  kind: SchemaChangeKind;
  /** e.g. `integer → string`, `maxLength 64 → 32`. */
  detail: string;
  breaking: boolean;
}

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const propertiesOf = (s: JsonSchema): Record<string, JsonSchema> =>
  isObject(s['properties']) ? (s['properties'] as Record<string, JsonSchema>) : {};

const requiredOf = (s: JsonSchema): Set<string> =>
  new Set(Array.isArray(s['required']) ? (s['required'] as string[]) : []);

/** The JSON types a subschema accepts, from `type` and the branches of `anyOf` (nullable). */
function typesOf(s: JsonSchema): string {
  const own = Array.isArray(s['type'])
    ? (s['type'] as string[])
    : typeof s['type'] === 'string'
      ? [s['type']]
      : [];
  const branches = Array.isArray(s['anyOf'])
    ? (s['anyOf'] as unknown[]).filter(isObject).map(typesOf)
    : [];
  const all = [...new Set([...own, ...branches.flatMap((t) => t.split('|'))])].sort();
  return all.length === 0 ? 'any' : all.join('|');
}

/** Keywords compared by value at a leaf; the structural ones are compared above. */
const STRUCTURAL = new Set(['type', 'properties', 'required', '$schema', 'description']);

const show = (value: unknown): string => (value === undefined ? '(none)' : JSON.stringify(value));

function diffNode(before: JsonSchema, after: JsonSchema, path: string, out: SchemaChange[]): void {
  const was = typesOf(before);
  const is = typesOf(after);
  if (was !== is) {
    out.push({ field: path, kind: 'type changed', detail: `${was} → ${is}`, breaking: true });
    return;
  }
  const oldProps = propertiesOf(before);
  const newProps = propertiesOf(after);
  if (Object.keys(oldProps).length > 0 || Object.keys(newProps).length > 0) {
    const oldRequired = requiredOf(before);
    const newRequired = requiredOf(after);
    const names = [...new Set([...Object.keys(oldProps), ...Object.keys(newProps)])];
    for (const name of names) {
      const field = path === '' ? name : `${path}.${name}`;
      const o = oldProps[name];
      const n = newProps[name];
      if (n === undefined) {
        const required = oldRequired.has(name);
        out.push({
          field,
          kind: 'removed',
          detail: required ? 'a required field is gone' : 'an optional field is gone',
          breaking: required,
        });
      } else if (o === undefined) {
        const required = newRequired.has(name);
        out.push({
          field,
          kind: 'added',
          detail: `${required ? 'required' : 'optional'} ${typesOf(n)}`,
          breaking: required,
        });
      } else {
        if (!oldRequired.has(name) && newRequired.has(name)) {
          out.push({ field, kind: 'now required', detail: 'was optional', breaking: true });
        } else if (oldRequired.has(name) && !newRequired.has(name)) {
          out.push({ field, kind: 'no longer required', detail: 'was required', breaking: true });
        }
        diffNode(o, n, field, out);
      }
    }
  }
  const keywords = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => !STRUCTURAL.has(k),
  );
  for (const keyword of keywords) {
    const o = show(before[keyword]);
    const n = show(after[keyword]);
    if (o !== n) {
      out.push({
        field: path === '' ? '(root)' : path,
        kind: 'changed',
        detail: `${keyword} ${o} → ${n}`,
        breaking: true,
      });
    }
  }
}

/** What changed from `before` to `after`, field by field, in the order of the fields. */
export function diffSchemas(before: JsonSchema, after: JsonSchema): SchemaChange[] {
  const out: SchemaChange[] = [];
  diffNode(before, after, '', out);
  return out;
}

/** `payload.current_stock: type changed (integer → string), breaking`. */
export function describeChange(change: SchemaChange): string {
  return `${change.field}: ${change.kind} (${change.detail})${change.breaking ? ', breaking' : ''}`;
}
