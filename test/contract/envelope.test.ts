import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envelopeSchema, majorVersionOf, metadataSchema } from '../../src/contract/envelope.ts';
import { documentExample } from './fixtures.ts';

test('the document example envelope is valid and keeps unknown metadata fields', () => {
  const doc = documentExample();
  doc.metadata.trace_parent = '00-abc-def-01';
  const result = envelopeSchema.parse(doc);
  assert.equal(result.metadata.tenant_id, 'tenant-1');
  assert.equal(result.metadata.trace_parent, '00-abc-def-01');
});

test('metadata timestamps need an offset; Z and +hh:mm are both fine', () => {
  const base = documentExample().metadata;
  assert.ok(metadataSchema.safeParse({ ...base, timestamp: '2024-01-15T10:00:00.123Z' }).success);
  assert.ok(metadataSchema.safeParse({ ...base, timestamp: '2024-01-15T12:00:00+02:00' }).success);
  assert.ok(!metadataSchema.safeParse({ ...base, timestamp: '2024-01-15T10:00:00' }).success);
  assert.ok(!metadataSchema.safeParse({ ...base, timestamp: 'yesterday' }).success);
});

test('priority is lowercase on the wire', () => {
  const base = documentExample().metadata;
  assert.ok(!metadataSchema.safeParse({ ...base, priority: 'HIGH' }).success);
  assert.ok(!metadataSchema.safeParse({ ...base, priority: 'urgent' }).success);
});

test('tenant_id: non-empty, at most 128, [A-Za-z0-9._-]', () => {
  const base = documentExample().metadata;
  const ok = (tenant_id: unknown) => metadataSchema.safeParse({ ...base, tenant_id }).success;
  assert.ok(ok('a'.repeat(128)));
  assert.ok(ok('Tenant_1.eu-west'));
  assert.ok(!ok('a'.repeat(129)));
  assert.ok(!ok(''));
  assert.ok(!ok('tenant 1'));
  assert.ok(!ok('tenant/1'));
  assert.ok(!ok(7));
});

test('event_version must be MAJOR.MINOR', () => {
  const base = documentExample().metadata;
  assert.ok(metadataSchema.safeParse({ ...base, event_version: '1.12' }).success);
  assert.ok(!metadataSchema.safeParse({ ...base, event_version: '1' }).success);
  assert.ok(!metadataSchema.safeParse({ ...base, event_version: '1.0.0' }).success);
  assert.ok(!metadataSchema.safeParse({ ...base, event_version: 1 }).success);
});

test('majorVersionOf', () => {
  assert.equal(majorVersionOf('1.0'), 1);
  assert.equal(majorVersionOf('2.7'), 2);
  assert.equal(majorVersionOf('v2'), undefined);
  assert.equal(majorVersionOf(2), undefined);
});

test('the payload must be an object', () => {
  const doc = documentExample();
  assert.ok(!envelopeSchema.safeParse({ ...doc, payload: [] }).success);
  assert.ok(!envelopeSchema.safeParse({ ...doc, payload: null }).success);
  assert.ok(!envelopeSchema.safeParse({ metadata: doc.metadata }).success);
});
