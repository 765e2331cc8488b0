/**
 * The registry client against a real Apicurio Registry (scripts/registry.ts, shared), and the
 * compatibility subtlety behind SCHEMA_COMPATIBILITY: with open JSON objects BACKWARD_TRANSITIVE
 * lets a removed required field through, FULL_TRANSITIVE does not. Subjects are unique per test.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ensureRegistry } from '../../../scripts/registry.ts';
import { eventJsonSchema } from '../../../src/contract/index.ts';
import type { JsonSchema } from '../../../src/contract/index.ts';
import { createSchemaRegistryClient, SCHEMA_COMPATIBILITY } from '../../../src/messaging/index.ts';
import type { SchemaRegistryClient } from '../../../src/messaging/index.ts';
import { isAppError } from '../../../src/platform/index.ts';
import { uniqueName } from '../../support/kafka.ts';
import { removeRequired, withPayload } from '../../support/schemas.ts';

let url: string;
let client: SchemaRegistryClient;

before(async () => {
  url = (await ensureRegistry()).url;
  client = createSchemaRegistryClient({ url });
});

const base = eventJsonSchema('inventory.low_stock', 1);

const withoutCategory = (): JsonSchema => withPayload(base, removeRequired('category'));

test('a subject that does not exist: lookup and latest are undefined; register, then both find it', async () => {
  const subject = uniqueName('client-test');
  assert.equal(await client.lookup(subject, base), undefined);
  assert.equal(await client.latest(subject), undefined);

  await client.setCompatibility(subject, SCHEMA_COMPATIBILITY);
  const id = await client.register(subject, base);
  assert.equal(await client.register(subject, base), id, 'the same schema again: the same id');
  assert.deepEqual(await client.lookup(subject, base), { id, version: 1 });
  assert.deepEqual(await client.latest(subject), { id, version: 1, schema: base });
  assert.equal(await client.lookup(subject, withoutCategory()), undefined, 'not this schema');
});

test(`${SCHEMA_COMPATIBILITY}, not BACKWARD_TRANSITIVE: only it refuses a removed required field`, async () => {
  const verdicts: Record<string, boolean> = {};
  for (const level of ['BACKWARD_TRANSITIVE', SCHEMA_COMPATIBILITY]) {
    const subject = uniqueName('client-test');
    await client.setCompatibility(subject, level);
    await client.register(subject, base);
    verdicts[level] = (await client.isCompatible(subject, withoutCategory())).compatible;
  }
  assert.deepEqual(verdicts, { BACKWARD_TRANSITIVE: true, [SCHEMA_COMPATIBILITY]: false });
});

test('a URL that is not the API is ERP_SCHEMA_REGISTRY_FAILED, never an empty registry', async () => {
  const root = createSchemaRegistryClient({ url: url.replace(/\/apis\/ccompat\/v7$/, '') });
  await assert.rejects(root.latest('anything'), (err) => {
    assert.ok(isAppError(err));
    assert.equal(err.code, 'ERP_SCHEMA_REGISTRY_FAILED', err.message);
    assert.equal(err.context['status'], 404);
    return true;
  });
});
