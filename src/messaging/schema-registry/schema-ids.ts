/**
 * A producing service's schema ids, looked up at start: the relay puts each event's id in the
 * `schema_id` header. A schema that is not registered, or that the registry finds incompatible
 * with what it holds, stops the start: publishing events that no registered schema describes is
 * what the registry is there to prevent.
 */
import { describeChange, diffSchemas } from '../../contract/index.ts';
import type { SchemaChange } from '../../contract/index.ts';
import type { SchemaRegistryClient } from './client.ts';
import { incompatibleError, notRegisteredError } from './errors.ts';
import { schemaIdKeyOf } from './subjects.ts';
import type { SchemaSubject } from './subjects.ts';

/**
 * Whether the contract's schema of `subject` may follow what the subject holds, and if not, which
 * fields break it: the registry's verdict, our diff for the names (the registry gives none).
 */
export async function compatibilityOf(
  client: SchemaRegistryClient,
  s: Pick<SchemaSubject, 'subject' | 'schema'>,
): Promise<{
  compatible: boolean;
  registered: boolean;
  /** The breaking changes (all changes when the registry refuses what our diff calls safe). */
  breaking: SchemaChange[];
  messages: string[];
}> {
  const latest = await client.latest(s.subject);
  if (latest === undefined) {
    return { compatible: true, registered: false, breaking: [], messages: [] };
  }
  const verdict = await client.isCompatible(s.subject, s.schema);
  const changes = diffSchemas(latest.schema, s.schema);
  const breaking = changes.filter((c) => c.breaking);
  return {
    compatible: verdict.compatible,
    registered: true,
    // The registry's verdict decides; our diff only names the fields.
    breaking: verdict.compatible || breaking.length > 0 ? breaking : changes,
    messages: verdict.messages,
  };
}

/**
 * `schemaIdKey` → schema id (as the header's text) for each subject. Throws ERP_SCHEMA_INCOMPATIBLE
 * or ERP_SCHEMA_NOT_REGISTERED naming the subject (and the fields), ERP_SCHEMA_REGISTRY_* when the
 * registry cannot answer.
 */
export async function resolveSchemaIds(
  client: SchemaRegistryClient,
  subjects: readonly SchemaSubject[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const s of subjects) {
    const found = await client.lookup(s.subject, s.schema);
    if (found === undefined) {
      const state = await compatibilityOf(client, s);
      if (!state.registered) throw notRegisteredError(s.subject, 'the subject has no schema');
      if (!state.compatible) {
        throw incompatibleError(
          s.subject,
          state.breaking.map((c) => c.field),
          state.breaking.map(describeChange).join('; '),
        );
      }
      throw notRegisteredError(s.subject, "the contract's schema is compatible but not registered");
    }
    ids.set(schemaIdKeyOf(s.eventType, s.major), String(found.id));
  }
  return ids;
}
