/**
 * A client of the Confluent-compatible schema registry API (Apicurio's `/apis/ccompat/v7`,
 * Confluent's own root) with `fetch`: only the calls the CLI and the services' start need.
 * Schemas are JSON Schema (`schemaType: JSON`).
 */
import type { JsonSchema } from '../../contract/index.ts';
import { failedError, incompatibleError, unreachableError } from './errors.ts';

export interface SchemaRegistryOptions {
  /** The API's root, e.g. http://127.0.0.1:8280/apis/ccompat/v7. Required. */
  url: string;
  /** Longest wait for one answer. Default: 10 000 ms. */
  timeoutMs?: number;
}

export interface RegisteredSchema {
  /** The registry-wide id: what the `schema_id` record header carries. */
  id: number;
  version: number;
}

export interface SchemaRegistryClient {
  readonly url: string;
  /** Sets a subject's compatibility level (allowed before its first version). */
  setCompatibility(subject: string, level: string): Promise<void>;
  /** Registers `schema` under `subject` (the same schema again gives the same id). */
  register(subject: string, schema: JsonSchema): Promise<number>;
  /** The id of exactly `schema` under `subject`; undefined when the subject does not hold it. */
  lookup(subject: string, schema: JsonSchema): Promise<RegisteredSchema | undefined>;
  /** The subject's latest version; undefined when the subject does not exist. */
  latest(subject: string): Promise<(RegisteredSchema & { schema: JsonSchema }) | undefined>;
  /** Whether `schema` may become the subject's next version under its compatibility level. */
  isCompatible(
    subject: string,
    schema: JsonSchema,
  ): Promise<{ compatible: boolean; messages: string[] }>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/**
 * "No such subject" or "not this schema": a 404 with the API's own JSON error (40401, 40403...).
 * A 404 without it is a URL that is not the API (the registry's root without /apis/ccompat/v7),
 * which must not pass for an empty registry.
 */
const isNotFound = (r: { status: number; json: unknown }): boolean =>
  r.status === 404 &&
  typeof (r.json as { error_code?: unknown } | undefined)?.error_code === 'number';

export function createSchemaRegistryClient(options: SchemaRegistryOptions): SchemaRegistryClient {
  const url = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call(
    what: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown; text: string }> {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw unreachableError(url, err);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const answer = { status: res.status, json, text };
    if (!res.ok && !isNotFound(answer) && res.status !== 409) {
      throw failedError(what, res.status, text);
    }
    return answer;
  }

  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;
  const body = (schema: JsonSchema) => ({ schemaType: 'JSON', schema: JSON.stringify(schema) });
  const unexpected = (what: string, r: { status: number; text: string }) =>
    failedError(what, r.status, r.text);

  return {
    url,

    async setCompatibility(subject, level) {
      const what = `set the compatibility of ${subject}`;
      const r = await call(what, 'PUT', `/config/${encodeURIComponent(subject)}`, {
        compatibility: level,
      });
      if (r.status !== 200) throw unexpected(what, r);
    },

    async register(subject, schema) {
      const what = `register a schema under ${subject}`;
      const r = await call(what, 'POST', `${subjectPath(subject)}/versions`, body(schema));
      if (r.status === 409) {
        // The registry's message names the kinds of change ("Subschema type changed at ...").
        const message = (r.json as { message?: string } | undefined)?.message ?? r.text;
        throw incompatibleError(subject, [], message);
      }
      const id = (r.json as { id?: unknown } | undefined)?.id;
      if (r.status !== 200 || typeof id !== 'number') throw unexpected(what, r);
      return id;
    },

    async lookup(subject, schema) {
      const what = `look up a schema under ${subject}`;
      const r = await call(what, 'POST', subjectPath(subject), body(schema));
      if (isNotFound(r)) return undefined;
      const found = r.json as { id?: unknown; version?: unknown } | undefined;
      if (typeof found?.id !== 'number' || typeof found.version !== 'number') {
        throw unexpected(what, r);
      }
      return { id: found.id, version: found.version };
    },

    async latest(subject) {
      const what = `read the latest schema of ${subject}`;
      const r = await call(what, 'GET', `${subjectPath(subject)}/versions/latest`);
      if (isNotFound(r)) return undefined;
      const found = r.json as { id?: unknown; version?: unknown; schema?: unknown } | undefined;
      if (
        typeof found?.id !== 'number' ||
        typeof found.version !== 'number' ||
        typeof found.schema !== 'string'
      ) {
        throw unexpected(what, r);
      }
      return {
        id: found.id,
        version: found.version,
        schema: JSON.parse(found.schema) as JsonSchema,
      };
    },

    async isCompatible(subject, schema) {
      const what = `check compatibility with ${subject}`;
      const r = await call(
        what,
        'POST',
        `/compatibility${subjectPath(subject)}/versions/latest?verbose=true`,
        body(schema),
      );
      const answer = r.json as { is_compatible?: unknown; messages?: unknown } | undefined;
      if (r.status !== 200 || typeof answer?.is_compatible !== 'boolean') {
        throw unexpected(what, r);
      }
      // Confluent lists reasons with verbose=true; Apicurio 3.3 answers the verdict only.
      const messages = Array.isArray(answer.messages) ? answer.messages.map(String) : [];
      return { compatible: answer.is_compatible, messages };
    },
  };
}
