import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesFilter, originalHeaders, viewDeadLetter } from '../../src/cli/dead-letter-view.ts';
import type { IncomingRecord } from '../../src/messaging/kafka/index.ts';
import { DOCUMENT_LOW_STOCK_JSON } from '../contract/fixtures.ts';

const at = Date.parse('2024-01-15T10:00:00.000Z');

function letter(headers: Record<string, string>, value: Buffer | null = null): IncomingRecord {
  return {
    topic: 'inventory-events.dlq',
    partition: 2,
    offset: 17n,
    key: Buffer.from('PRD-123'),
    value,
    headers,
    timestamp: at,
  };
}

const written = {
  event_id: 'evt-1',
  event_type: 'inventory.low_stock',
  tenant_id: 'tenant-1',
  'dlq.original.topic': 'inventory-events',
  'dlq.original.partition': '1',
  'dlq.original.offset': '42',
  'dlq.original.timestamp': String(at - 5000),
  'dlq.consumer.group': 'sales-service-group',
  'dlq.error.code': 'ERP_EVT_INVALID_PAYLOAD',
  'dlq.error.message': 'payload.current_stock: expected number',
  'dlq.error.retryable': 'false',
  'dlq.attempts': '3',
  'dlq.first.failure': '2024-01-15T09:59:58.000Z',
  'dlq.last.failure': '2024-01-15T09:59:59.500Z',
};

test('the dlq headers as a typed view', () => {
  const view = viewDeadLetter(letter(written));
  assert.equal(view.partition, 2);
  assert.equal(view.offset, 17n);
  assert.equal(view.time.getTime(), at);
  assert.equal(view.code, 'ERP_EVT_INVALID_PAYLOAD');
  assert.equal(view.message, 'payload.current_stock: expected number');
  assert.equal(view.retryable, false);
  assert.equal(view.eventType, 'inventory.low_stock');
  assert.equal(view.eventId, 'evt-1');
  assert.equal(view.tenantId, 'tenant-1');
  assert.deepEqual(view.original, {
    topic: 'inventory-events',
    partition: 1,
    offset: 42n,
    timestamp: new Date(at - 5000),
  });
  assert.equal(view.consumerGroup, 'sales-service-group');
  assert.equal(view.attempts, 3);
  assert.equal(view.firstFailure?.toISOString(), '2024-01-15T09:59:58.000Z');
  assert.equal(view.lastFailure?.toISOString(), '2024-01-15T09:59:59.500Z');
});

test('without the contract headers, event type, id and tenant come from the envelope', () => {
  const view = viewDeadLetter(letter({}, Buffer.from(DOCUMENT_LOW_STOCK_JSON)));
  assert.equal(view.eventType, 'inventory.low_stock');
  assert.equal(view.eventId, 'evt-123456');
  assert.equal(view.tenantId, 'tenant-1');
});

test('missing or malformed headers are left undefined, never guessed', () => {
  const view = viewDeadLetter(
    letter(
      {
        'dlq.original.offset': 'x',
        'dlq.original.partition': '',
        'dlq.attempts': 'many',
        'dlq.first.failure': 'yesterday',
      },
      Buffer.from('{"metadata": "not an object"}'),
    ),
  );
  assert.equal(view.code, undefined);
  assert.equal(view.retryable, undefined);
  assert.equal(view.eventType, undefined);
  assert.equal(view.tenantId, undefined);
  assert.deepEqual(view.original, {
    topic: undefined,
    partition: undefined,
    offset: undefined,
    timestamp: undefined,
  });
  assert.equal(view.attempts, undefined);
  assert.equal(view.firstFailure, undefined);
  assert.equal(viewDeadLetter(letter({}, Buffer.from([0x7b, 0xff]))).eventType, undefined);
});

test('filters: every criterion must hold; since is inclusive, until exclusive', () => {
  const view = viewDeadLetter(letter(written));
  assert.ok(matchesFilter(view, {}));
  assert.ok(matchesFilter(view, { code: 'ERP_EVT_INVALID_PAYLOAD', tenant: 'tenant-1' }));
  assert.ok(!matchesFilter(view, { code: 'ERP_EVT_INVALID_PAYLOAD', tenant: 'tenant-2' }));
  assert.ok(matchesFilter(view, { eventType: 'inventory.low_stock' }));
  assert.ok(!matchesFilter(view, { eventType: 'inventory.stock_adjusted' }));
  assert.ok(matchesFilter(view, { since: new Date(at) }));
  assert.ok(!matchesFilter(view, { since: new Date(at + 1) }));
  assert.ok(!matchesFilter(view, { until: new Date(at) }));
  assert.ok(matchesFilter(view, { until: new Date(at + 1) }));
  assert.ok(!matchesFilter(viewDeadLetter(letter({})), { tenant: 'tenant-1' }));
});

test('positions: only the dead letters selected (the console redrives a selection this way)', () => {
  const view = viewDeadLetter(letter(written));
  assert.ok(matchesFilter(view, { positions: ['0:1', '2:17'] }));
  assert.ok(!matchesFilter(view, { positions: ['2:18', '17:2'] }));
  assert.ok(!matchesFilter(view, { positions: [] }));
  assert.ok(!matchesFilter(view, { positions: ['2:17'], tenant: 'tenant-2' }));
});

test('a redrive keeps the original headers and drops the dead-letter ones', () => {
  assert.deepEqual(
    originalHeaders(viewDeadLetter(letter({ ...written, 'dlq.redriven.from': 'x' }))),
    {
      event_id: 'evt-1',
      event_type: 'inventory.low_stock',
      tenant_id: 'tenant-1',
    },
  );
});
