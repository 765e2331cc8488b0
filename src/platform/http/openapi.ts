/**
 * The OpenAPI 3.1 document of a service, generated from its routes: each declares `config.docs`
 * (RouteDocs) with the zod schemas its handler parses, so the document describes what is enforced
 * and cannot drift from it. Statuses of error codes come from the same tables the error handler
 * uses, and the security of each route from the access rule that access.ts applies.
 */
import { z } from 'zod';
import { PlatformErrorCodes } from '../errors.ts';
import type { HttpStatusTable } from './errors.ts';
import type { RouteAccess } from './access.ts';

/** A successful response of a route. */
export interface ResponseDocs {
  description: string;
  /** Its JSON body; tests check real responses against it. Absent: not JSON (see `contentType`). */
  schema?: z.ZodType;
  /** Default: application/json. */
  contentType?: string;
  /** Response headers worth knowing, name → what it says. */
  headers?: Readonly<Record<string, string>>;
}

/** What a route tells its readers, declared next to it with the schemas its handler parses. */
export interface RouteDocs {
  summary: string;
  description?: string;
  /** Groups operations in the UI (e.g. `products`). */
  tag: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** An example request body; test/docs/api-docs.test.ts sends it to the route. */
  example?: unknown;
  responses: Readonly<Record<number, ResponseDocs>>;
  /** The error codes the route's handler raises, beyond what every route may answer. */
  errors?: readonly string[];
  /** Accepts an Idempotency-Key (platform/http/idempotency.ts). */
  idempotent?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    docs?: RouteDocs;
  }
}

/** A route as Fastify registered it (collected by an onRoute hook). */
export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess | undefined;
  docs: RouteDocs | undefined;
}

export interface OpenApiOptions {
  title: string;
  description?: string;
  /** The error statuses the service answers with (platform's and its own). */
  statuses: HttpStatusTable;
  /** The service's scopes (AccessOptions.scopes). Default: any authenticated caller. */
  scopes?: { read: string; write: string };
  /** /metrics without a token (AUTH_OPEN_METRICS). Default: false. */
  openMetrics?: boolean;
}

type Json = Record<string, unknown>;

/** `{ "error": { "code", "message", "retryable", ... } }`: every error of both services. */
const errorBody = z.object({
  error: z
    .looseObject({
      code: z.string().meta({ description: 'Stable code (ERP_*), see docs/errors.md.' }),
      message: z.string().meta({ description: 'For people; match on code, not on this.' }),
      retryable: z
        .boolean()
        .meta({ description: 'Whether the same request may succeed later unchanged.' }),
    })
    .meta({ description: 'More fields give context: field, issues, limit, reason, ...' }),
});

const SECURITY_SCHEME = 'bearerAuth';

/** Database outages a request may meet: try again later. */
const OUTAGES: readonly string[] = [
  PlatformErrorCodes.DB_UNREACHABLE,
  PlatformErrorCodes.DB_CONNECTION_LOST,
];

/** The document's OpenAPI version. */
export const OPENAPI_VERSION = '3.1.0';

/** Routes Fastify adds by itself (HEAD for every GET) are not documented apart. */
export const UNDOCUMENTED_METHODS: readonly string[] = ['HEAD', 'OPTIONS'];

export function openApiDocument(routes: readonly RegisteredRoute[], options: OpenApiOptions): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    if (route.docs === undefined || UNDOCUMENTED_METHODS.includes(route.method)) continue;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operationOf(route, route.docs, options);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: options.title,
      version: '1',
      description: [
        options.description ?? '',
        '**Tenancy.** Every request acts for one tenant: the `tenant_id` claim of its bearer token (AUTH_TENANT_CLAIM), never a header the caller picks (with AUTH_MODE=none, for trusted networks only, the `X-Tenant-ID` header). Every read and write is scoped to it; another tenant’s ids answer 404, as if they did not exist.',
        '**Errors** are `{"error": {"code", "message", "retryable", ...}}` with a stable code; the status of each code is listed per operation.',
        '**Retries.** POSTs take an optional `Idempotency-Key`: the same key with the same request answers the first response again (`Idempotent-Replayed: true`) without a second effect.',
      ]
        .filter((line) => line !== '')
        .join('\n\n'),
    },
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(errorBody, 'output') },
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A JWT of the configured issuer (OpenID Connect, or the development issuer: \`npm run -s cli -- auth token --tenant <t>\`). Scopes (the \`scope\` claim): ${
            options.scopes === undefined
              ? 'any'
              : `\`${options.scopes.read}\` for GETs, \`${options.scopes.write}\` for POSTs`
          }, \`ops\` for /metrics. The tenant is the token’s tenant claim.`,
        },
      },
    },
  };
}

function operationOf(route: RegisteredRoute, docs: RouteDocs, options: OpenApiOptions): Json {
  const scope = requiredScope(route, options);
  const parameters = [
    ...parametersOf(docs.params, 'path'),
    ...parametersOf(docs.query, 'query'),
    ...(docs.idempotent === true
      ? [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              '1-255 visible ASCII characters; the same key and request within 24 hours answers the first response again.',
            schema: { type: 'string', minLength: 1, maxLength: 255 },
          },
        ]
      : []),
  ];
  return {
    operationId: operationIdOf(route),
    summary: docs.summary,
    ...(docs.description === undefined ? {} : { description: docs.description }),
    tags: [docs.tag],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(docs.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: jsonSchemaOf(docs.body, 'input'),
                ...(docs.example === undefined ? {} : { example: docs.example }),
              },
            },
          },
        }),
    responses: { ...successes(docs), ...failures(docs, scope, options.statuses) },
    security:
      scope === 'public' ? [] : [{ [SECURITY_SCHEME]: scope === 'authenticated' ? [] : [scope] }],
  };
}

/** The scope access.ts requires of the route: the same rule, read from the same options. */
function requiredScope(route: RegisteredRoute, options: OpenApiOptions): RouteAccess {
  if (route.access !== undefined) return route.access;
  if (route.url === '/metrics') return options.openMetrics === true ? 'public' : 'ops';
  if (options.scopes === undefined) return 'authenticated';
  return route.method === 'GET' ? options.scopes.read : options.scopes.write;
}

function successes(docs: RouteDocs): Json {
  return Object.fromEntries(
    Object.entries(docs.responses).map(([status, response]) => [
      status,
      {
        description: response.description,
        ...(response.headers === undefined
          ? {}
          : {
              headers: Object.fromEntries(
                Object.entries(response.headers).map(([name, description]) => [
                  name,
                  { description, schema: { type: 'string' } },
                ]),
              ),
            }),
        content: {
          [response.contentType ?? 'application/json']:
            response.schema === undefined
              ? {}
              : { schema: jsonSchemaOf(response.schema, 'output') },
        },
      },
    ]),
  );
}

/** Every error the route may answer, grouped by status, each status listing its codes. */
function failures(docs: RouteDocs, scope: RouteAccess, statuses: HttpStatusTable): Json {
  const C = PlatformErrorCodes;
  const codes: string[] = [...(docs.errors ?? [])];
  if (docs.params !== undefined || docs.query !== undefined || docs.body !== undefined) {
    codes.push(C.HTTP_INVALID_INPUT);
  }
  if (docs.body !== undefined) codes.push(C.HTTP_FORBIDDEN_KEY);
  if (docs.idempotent === true) {
    codes.push(C.HTTP_INVALID_IDEMPOTENCY_KEY, C.HTTP_IDEMPOTENCY_KEY_REUSED);
  }
  if (scope !== 'public') {
    codes.push(
      C.AUTH_MISSING_TOKEN,
      C.AUTH_INVALID_TOKEN,
      C.AUTH_TOKEN_EXPIRED,
      C.AUTH_INSUFFICIENT_SCOPE,
      C.AUTH_NO_TENANT,
      C.AUTH_UNAVAILABLE,
      C.HTTP_MISSING_TENANT,
      C.HTTP_INVALID_TENANT,
      C.HTTP_RATE_LIMITED,
      C.DB_UNREACHABLE,
      C.DB_CONNECTION_LOST,
    );
  }
  codes.push(C.HTTP_DRAINING);
  const byStatus = new Map<number, string[]>();
  for (const code of new Set(codes)) {
    // An outage is a 503 without a table entry (errors.ts: errorResponse).
    const status = statuses[code] ?? (OUTAGES.includes(code) ? 503 : 500);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  if (docs.body !== undefined) {
    // Fastify's own refusals of a body (not JSON, too large, another type) keep its status.
    byStatus.set(400, [...(byStatus.get(400) ?? []), C.HTTP_BAD_REQUEST]);
    byStatus.set(413, [C.HTTP_BAD_REQUEST]);
    byStatus.set(415, [C.HTTP_BAD_REQUEST]);
  }
  byStatus.set(500, [...(byStatus.get(500) ?? []), C.INTERNAL]);
  const error = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  return Object.fromEntries(
    [...byStatus.entries()]
      // A status the route documents itself (/readyz's 503) is described there.
      .filter(([status]) => docs.responses[status] === undefined)
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        String(status),
        { description: list.map((c) => `\`${c}\``).join(', '), content: error },
      ]),
  );
}

function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query'): Json[] {
  if (schema === undefined) return [];
  const json = jsonSchemaOf(schema, 'input') as { properties?: Json; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

/** `POST /api/v1/products/:id/stock-adjustments` → `postApiV1ProductsIdStockAdjustments`. */
function operationIdOf(route: RegisteredRoute): string {
  const words = route.url.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  return (
    route.method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')
  );
}

/**
 * JSON Schema 2020-12, OpenAPI 3.1's dialect. `input` for requests (a field with a default may be
 * left out), `output` for responses. Refinements JSON Schema cannot say are left to the handler.
 */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    reused: 'inline',
  });
  return rest;
}
