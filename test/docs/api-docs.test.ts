// The published OpenAPI documents against the services themselves, built by the kit as they run
// (real Kafka, real tokens): every route Fastify serves is documented, the documents are valid
// OpenAPI 3.1, their example bodies are accepted, and real answers match the documented schemas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { eventDocsFor } from '../../src/messaging/index.ts';
import { handleProductCreated } from '../../src/sales/handlers/product-created.ts';
import { waitUntil } from '../support/kafka.ts';
import { documentedRoutes, servedRoutes } from '../support/openapi.ts';
import { startSystem } from '../support/system.ts';
import { consumed, inTransaction, productCreatedEvent } from '../sales/fixtures.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON documents, walked by the assertions
type Json = Record<string, any>;

async function documentOf(app: FastifyInstance): Promise<Json> {
  const response = await app.inject({ url: '/docs/openapi.json' });
  assert.equal(response.statusCode, 200);
  return response.json<Json>();
}

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

/** Asserts that `response` is one the document lists for the operation, with a matching body. */
function assertDocumented(
  doc: Json,
  method: string,
  path: string,
  response: LightMyRequestResponse,
) {
  const operation = doc.paths[path]?.[method];
  assert.ok(operation, `${method} ${path} is documented`);
  const documented = operation.responses[String(response.statusCode)];
  assert.ok(documented, `${method} ${path} documents ${response.statusCode}: ${response.body}`);
  let schema = documented.content['application/json']?.schema;
  assert.ok(schema, `${method} ${path} ${response.statusCode} is JSON`);
  const ref = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref ?? '');
  if (ref !== null) schema = doc.components.schemas[ref[1]!];
  const validate = ajv.compile(schema);
  assert.ok(
    validate(response.json()),
    `${method} ${path} ${response.statusCode}: ${ajv.errorsText(validate.errors)}\n${response.body}`,
  );
}

function exampleOf(doc: Json, method: string, path: string): Json {
  const example: Json | undefined =
    doc.paths[path][method].requestBody.content['application/json'].example;
  assert.ok(example, `${method} ${path} has an example body`);
  return example;
}

test('both services document every route they serve, in valid OpenAPI 3.1', async (t) => {
  const system = await startSystem(t);
  for (const service of [system.inventory, system.sales]) {
    const doc = await documentOf(service.http);
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.deepEqual(result, { valid: true }, `${service.name}: ${JSON.stringify(result)}`);
    assert.equal(validator.version, '3.1');
    assert.deepEqual(
      documentedRoutes(doc as { paths: Record<string, object> }),
      servedRoutes(service.http),
      service.name,
    );
    // The route tree really was read: the service's own routes and the kit's are in it.
    assert.ok(documentedRoutes(doc as { paths: Record<string, object> }).includes('GET /healthz'));
    assert.ok(
      documentedRoutes(doc as { paths: Record<string, object> }).some((r) =>
        r.includes(' /api/v1/'),
      ),
    );
  }
});

test('the example bodies are accepted, and every answer is one the document describes', async (t) => {
  const system = await startSystem(t);
  const headers = await system.headers('tenant-docs');
  const inventory = system.inventory.http;
  const sales = system.sales.http;
  const invDoc = await documentOf(inventory);
  const salesDoc = await documentOf(sales);
  const call = async (
    app: FastifyInstance,
    doc: Json,
    method: string,
    path: string,
    url: string,
    payload?: Json,
  ) => {
    const response = await app.inject({
      method: method.toUpperCase() as 'GET' | 'POST',
      url,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
    assertDocumented(doc, method, path, response);
    return response;
  };

  const body = exampleOf(invDoc, 'post', '/api/v1/products');
  const created = await call(
    inventory,
    invDoc,
    'post',
    '/api/v1/products',
    '/api/v1/products',
    body,
  );
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  const adjust = (payload: Json) =>
    call(
      inventory,
      invDoc,
      'post',
      '/api/v1/products/{id}/stock-adjustments',
      `/api/v1/products/${id}/stock-adjustments`,
      payload,
    );
  const adjustment = exampleOf(invDoc, 'post', '/api/v1/products/{id}/stock-adjustments');
  assert.equal((await adjust(adjustment)).statusCode, 201);
  // Down to the reorder level and beyond: inventory.low_stock, so Sales gets an alert.
  const level = created.json().reorder_level as number;
  const remaining = created.json().quantity_on_hand + adjustment.quantity_change;
  assert.equal(
    (await adjust({ quantity_change: level - remaining - 1, reason: 'sale' })).statusCode,
    201,
  );
  assert.equal((await adjust({ quantity_change: -1_000_000, reason: 'sale' })).statusCode, 409);
  const list = await call(inventory, invDoc, 'get', '/api/v1/products', '/api/v1/products?limit=5');
  assert.equal(list.json().items.length, 1);
  await call(inventory, invDoc, 'get', '/api/v1/products/{id}', `/api/v1/products/${id}`);
  const missing = await call(
    inventory,
    invDoc,
    'get',
    '/api/v1/products/{id}',
    '/api/v1/products/nope',
  );
  assert.equal(missing.statusCode, 404);

  // The order example names a product of its own: Sales learns it as it would from Kafka.
  const order = exampleOf(salesDoc, 'post', '/api/v1/orders');
  await inTransaction(system.salesDb, (ctx) =>
    handleProductCreated(
      consumed(productCreatedEvent('tenant-docs', { product_id: order.lines[0].product_id })),
      ctx,
    ),
  );
  const placed = await call(sales, salesDoc, 'post', '/api/v1/orders', '/api/v1/orders', order);
  assert.equal(placed.statusCode, 201, placed.body);
  await call(sales, salesDoc, 'get', '/api/v1/orders', '/api/v1/orders');

  let alertId: string | undefined;
  await waitUntil('the low-stock alert', async () => {
    const alerts = await call(
      sales,
      salesDoc,
      'get',
      '/api/v1/alerts',
      '/api/v1/alerts?status=open',
    );
    alertId = alerts.json().items[0]?.id;
    return alertId !== undefined;
  });
  await call(sales, salesDoc, 'get', '/api/v1/alerts/{id}', `/api/v1/alerts/${alertId}`);
  const ack = `/api/v1/alerts/${alertId}/acknowledge`;
  assert.equal(
    (await call(sales, salesDoc, 'post', '/api/v1/alerts/{id}/acknowledge', ack)).statusCode,
    200,
  );
  assert.equal(
    (await call(sales, salesDoc, 'post', '/api/v1/alerts/{id}/acknowledge', ack)).statusCode,
    409,
  );
  const forecast = await call(
    sales,
    salesDoc,
    'get',
    '/api/v1/forecasts/{productId}',
    `/api/v1/forecasts/${id}`,
  );
  assert.equal(forecast.statusCode, 200, forecast.body);
});

test('/docs is Swagger UI served by the service itself, and the documents need no token', async (t) => {
  const system = await startSystem(t);
  for (const service of [system.inventory, system.sales]) {
    const app = service.http;
    const refused = await app.inject({ url: '/api/v1/orders' });
    assert.equal(refused.statusCode, 401, 'the API itself needs a token');
    const page = await app.inject({ url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    // Offline: nothing is fetched from another host.
    assert.doesNotMatch(page.body, /(https?:)?\/\/[a-z]/i);
    const assets = [...page.body.matchAll(/(?:src|href)="\.(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 3);
    for (const asset of assets) {
      const response = await app.inject({ url: asset });
      assert.equal(response.statusCode, 200, asset);
      assert.ok(response.body.length > 0, asset);
    }
    const init = await app.inject({ url: '/docs/assets/init.js' });
    assert.match(init.body, /url: '\.\/docs\/openapi\.json'/);
    assert.match(init.body, /validatorUrl: null/);
    assert.equal((await app.inject({ url: '/docs/assets/other.js' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/docs/openapi.json' })).statusCode, 200);
    const asyncapi = await app.inject({ url: '/docs/asyncapi.json' });
    assert.equal(asyncapi.statusCode, 200);
    assert.deepEqual(asyncapi.json(), JSON.parse(JSON.stringify(eventDocsFor(system.config))));
  }
});
