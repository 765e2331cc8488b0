import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { z } from 'zod';
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  headerTenancy,
} from '../../../src/platform/index.ts';
import type { RouteDocs } from '../../../src/platform/index.ts';
import { documentedRoutes, servedRoutes } from '../../support/openapi.ts';

const thing = z.strictObject({ name: z.string().trim().min(1).max(20) });

const DOCS = {
  create: {
    summary: 'Create a thing',
    tag: 'things',
    body: thing,
    example: { name: 'a thing' },
    idempotent: true,
    responses: { 201: { description: 'Created', schema: thing } },
    errors: ['ERP_THING_TAKEN', 'ERP_THING_UNLISTED'],
  },
  get: {
    summary: 'One thing',
    tag: 'things',
    params: z.strictObject({ id: z.string() }),
    query: z.strictObject({ limit: z.coerce.number().int().default(10), q: z.string() }),
    responses: { 200: { description: 'The thing', schema: thing } },
  },
} satisfies Record<string, RouteDocs>;

function server(openMetrics = false) {
  const { app } = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics: createMetricsRegistry('test', false),
    isReady: () => true,
    access: {
      authenticator: headerTenancy(),
      scopes: { read: 't:read', write: 't:write' },
      openMetrics,
    },
    errorStatuses: { ERP_THING_TAKEN: 409 },
    docs: { title: 'things', description: 'Things, per tenant.' },
  });
  app.post('/api/things', { config: { docs: DOCS.create } }, () => ({}));
  app.get('/api/things/:id', { config: { docs: DOCS.get } }, () => ({}));
  return app;
}

async function documentOf(openMetrics = false) {
  const app = server(openMetrics);
  const response = await app.inject({ url: '/docs/openapi.json' });
  assert.equal(response.statusCode, 200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document, walked by the assertions
  return response.json<Record<string, any>>();
}

test('the document is valid OpenAPI 3.1, and the validator does refuse a broken one', async () => {
  const doc = await documentOf();
  const validator = new Validator();
  assert.deepEqual(await validator.validate(doc), { valid: true });
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(doc.info.title, 'things');
  assert.match(doc.info.description, /Things, per tenant\.[\s\S]*Tenancy/);
  const broken = structuredClone(doc);
  // OpenAPI 2's body parameter: not a place a 3.1 parameter can be in.
  broken.paths['/api/things'].post.parameters[0].in = 'body';
  assert.equal((await new Validator().validate(broken)).valid, false);
});

test('a route registered without docs is served but not documented, so coverage tests catch it', async () => {
  const app = server();
  app.get('/api/secret', () => ({}));
  const doc = (await app.inject({ url: '/docs/openapi.json' })).json();
  assert.ok(servedRoutes(app).includes('GET /api/secret'));
  assert.ok(!documentedRoutes(doc).includes('GET /api/secret'));
  assert.deepEqual(
    servedRoutes(app).filter((r) => r !== 'GET /api/secret'),
    documentedRoutes(doc),
  );
});

test('each operation needs the scope access control asks for', async () => {
  const doc = await documentOf();
  assert.deepEqual(doc.paths['/api/things'].post.security, [{ bearerAuth: ['t:write'] }]);
  assert.deepEqual(doc.paths['/api/things/{id}'].get.security, [{ bearerAuth: ['t:read'] }]);
  assert.deepEqual(doc.paths['/metrics'].get.security, [{ bearerAuth: ['ops'] }]);
  assert.deepEqual(doc.paths['/healthz'].get.security, []);
  assert.deepEqual(doc.paths['/docs/openapi.json'].get.security, []);
  assert.deepEqual((await documentOf(true)).paths['/metrics'].get.security, []);
  assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  assert.equal(doc.components.securitySchemes.bearerAuth.bearerFormat, 'JWT');
});

test('errors are listed under the status the tables give their codes', async () => {
  const responses = (await documentOf()).paths['/api/things'].post.responses;
  assert.match(responses['409'].description, /ERP_THING_TAKEN/);
  // A code in no table is a 500, as the error handler answers it.
  assert.match(responses['500'].description, /ERP_THING_UNLISTED.*ERP_INTERNAL/);
  assert.match(responses['400'].description, /ERP_HTTP_INVALID_INPUT/);
  assert.match(responses['401'].description, /ERP_AUTH_MISSING_TOKEN/);
  assert.match(responses['403'].description, /ERP_AUTH_INSUFFICIENT_SCOPE/);
  assert.match(responses['422'].description, /ERP_HTTP_IDEMPOTENCY_KEY_REUSED/);
  assert.match(responses['429'].description, /ERP_HTTP_RATE_LIMITED/);
  assert.match(responses['503'].description, /ERP_HTTP_DRAINING/);
  assert.deepEqual(responses['409'].content['application/json'].schema, {
    $ref: '#/components/schemas/Error',
  });
  // A public route has no authentication errors to give.
  assert.equal((await documentOf()).paths['/healthz'].get.responses['401'], undefined);
});

test('bodies, path and query parameters are the zod schemas the handler parses', async () => {
  const doc = await documentOf();
  const create = doc.paths['/api/things'].post;
  const body = create.requestBody.content['application/json'];
  assert.deepEqual(body.schema.required, ['name']);
  assert.equal(body.schema.additionalProperties, false);
  assert.equal(body.schema.properties.name.maxLength, 20);
  assert.deepEqual(body.example, { name: 'a thing' });
  assert.ok(thing.safeParse(body.example).success);
  assert.ok(create.parameters.some((p: { name: string }) => p.name === 'Idempotency-Key'));
  const params = doc.paths['/api/things/{id}'].get.parameters;
  assert.deepEqual(
    params.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required]),
    [
      ['id', 'path', true],
      ['limit', 'query', false],
      ['q', 'query', true],
    ],
  );
});
