/**
 * scripts/registry.ts gives an Apicurio Registry whose Confluent-compatible API and management
 * interface answer on loopback at the configured ports: the script's proof, not the schema tests.
 * Shared with every other test file: started if needed, never stopped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureRegistry } from '../../scripts/registry.ts';

test('ensureRegistry: the ccompat API and the health endpoints on loopback, one instance', async () => {
  const registry = await ensureRegistry();
  assert.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
  assert.deepEqual(await ensureRegistry(), registry, 'a second call finds the running one');

  const subjects = await fetch(`${registry.url}/subjects`);
  assert.equal(subjects.status, 200);
  assert.ok(Array.isArray(await subjects.json()));
  const management = process.env['SCHEMA_REGISTRY_MANAGEMENT_PORT'] || '9280';
  const health = await fetch(`http://127.0.0.1:${management}/health/ready`);
  assert.equal(health.status, 200, 'the management interface moved off 0.0.0.0:9000');
  assert.equal(((await health.json()) as { status: string }).status, 'UP');
});
