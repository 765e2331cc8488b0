import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createEvent,
  decodeEnvelope,
  decodeEvent,
  encodeEvent,
  kafkaHeadersFor,
} from '../../src/contract/codec.ts';
import type { ContractErrorCode } from '../../src/contract/errors.ts';
import { isContractError } from '../../src/contract/errors.ts';
import { EVENT_TYPES } from '../../src/contract/registry.ts';
import { DOCUMENT_LOW_STOCK_JSON, documentExample } from './fixtures.ts';

function rejectsWith(code: ContractErrorCode, fn: () => unknown, path?: string): void {
  assert.throws(fn, (err) => {
    assert.ok(isContractError(err), `expected a ContractError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.retryable, false);
    if (path !== undefined) {
      assert.ok(
        err.issues.some((i) => i.path === path),
        `no issue at ${path}: ${JSON.stringify(err.issues)}`,
      );
    }
    return true;
  });
}

const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

const lowStockPayload = {
  product_id: 'PRD-123',
  product_sku: 'LAP-001',
  product_name: 'Laptop Computer',
  current_stock: 8,
  reorder_level: 10,
  reorder_quantity: 50,
  unit_price: 1200,
  category: 'electronics',
  location: 'Warehouse A',
};

test("the document's own example decodes as inventory.low_stock", () => {
  for (const input of [DOCUMENT_LOW_STOCK_JSON, Buffer.from(DOCUMENT_LOW_STOCK_JSON)]) {
    const decoded = decodeEvent(decodeEnvelope(input));
    assert.ok(decoded.known);
    assert.equal(decoded.type, 'inventory.low_stock');
    if (decoded.type !== EVENT_TYPES.lowStock) return;
    // Narrowed by `type`: these are typed payload fields, not unknown.
    const p = decoded.event.payload;
    assert.equal(p.current_stock, 8);
    assert.equal(p.unit_price, 1200);
    assert.equal(p.days_of_stock_remaining, 3.5);
    assert.equal(decoded.event.metadata.priority, 'high');
    assert.equal(decoded.event.metadata.correlation_id, 'corr-789');
  }
});

test('ERP_EVT_EMPTY for null, undefined, empty buffer and empty string', () => {
  for (const value of [null, undefined, Buffer.alloc(0), '']) {
    rejectsWith('ERP_EVT_EMPTY', () => decodeEnvelope(value));
  }
});

test('ERP_EVT_MALFORMED_JSON for truncated JSON and for bytes that are not UTF-8', () => {
  rejectsWith('ERP_EVT_MALFORMED_JSON', () => decodeEnvelope(DOCUMENT_LOW_STOCK_JSON.slice(0, 40)));
  rejectsWith('ERP_EVT_MALFORMED_JSON', () =>
    decodeEnvelope(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
  );
});

test('ERP_EVT_INVALID_ENVELOPE names the bad field', () => {
  const doc = documentExample();
  doc.metadata.priority = 'HIGH';
  rejectsWith('ERP_EVT_INVALID_ENVELOPE', () => decodeEnvelope(bytes(doc)), 'metadata.priority');

  const noTimestamp = documentExample();
  delete noTimestamp.metadata.timestamp;
  rejectsWith(
    'ERP_EVT_INVALID_ENVELOPE',
    () => decodeEnvelope(bytes(noTimestamp)),
    'metadata.timestamp',
  );

  rejectsWith('ERP_EVT_INVALID_ENVELOPE', () => decodeEnvelope('[1,2]'));
  rejectsWith('ERP_EVT_INVALID_ENVELOPE', () => decodeEnvelope('"text"'));
  rejectsWith('ERP_EVT_INVALID_ENVELOPE', () =>
    decodeEnvelope(bytes({ payload: documentExample().payload })),
  );
});

test('ERP_EVT_MISSING_TENANT when tenant_id is missing or invalid, even with other problems', () => {
  const missing = documentExample();
  delete missing.metadata.tenant_id;
  rejectsWith('ERP_EVT_MISSING_TENANT', () => decodeEnvelope(bytes(missing)), 'metadata.tenant_id');

  const invalid = documentExample();
  invalid.metadata.tenant_id = 'tenant 1; drop';
  invalid.metadata.priority = 'HIGH';
  rejectsWith('ERP_EVT_MISSING_TENANT', () => decodeEnvelope(bytes(invalid)), 'metadata.priority');
});

test('ERP_EVT_UNSUPPORTED_VERSION for 2.0, even if the rest looks different; 1.1 is accepted', () => {
  const v2 = documentExample();
  v2.metadata.event_version = '2.0';
  delete v2.metadata.tenant_id;
  rejectsWith('ERP_EVT_UNSUPPORTED_VERSION', () => decodeEnvelope(bytes(v2)));

  const v11 = documentExample();
  v11.metadata.event_version = '1.1';
  const decoded = decodeEvent(decodeEnvelope(bytes(v11)));
  assert.ok(decoded.known);
  assert.equal(decoded.event.metadata.event_version, '1.1');
});

test('ERP_EVT_INVALID_PAYLOAD lists each bad field with its payload path', () => {
  const doc = documentExample();
  doc.payload.current_stock = 8.5;
  delete doc.payload.product_sku;
  const envelope = decodeEnvelope(bytes(doc));
  rejectsWith('ERP_EVT_INVALID_PAYLOAD', () => decodeEvent(envelope), 'payload.current_stock');
  rejectsWith('ERP_EVT_INVALID_PAYLOAD', () => decodeEvent(envelope), 'payload.product_sku');
});

test('an unknown event type is not an error: known:false with the envelope', () => {
  const doc = documentExample();
  doc.metadata.event_type = 'billing.invoice_paid';
  doc.payload = { invoice_id: 'INV-1' };
  const decoded = decodeEvent(decodeEnvelope(bytes(doc)));
  assert.equal(decoded.known, false);
  assert.ok(!decoded.known);
  assert.equal(decoded.envelope.metadata.event_type, 'billing.invoice_paid');
  assert.deepEqual(decoded.envelope.payload, { invoice_id: 'INV-1' });
});

test('unknown extra fields in metadata and payload are tolerated and kept', () => {
  const doc = documentExample();
  doc.metadata.schema_hint = 'x';
  doc.payload.warehouse_zone = 'B-7';
  const decoded = decodeEvent(decodeEnvelope(bytes(doc)));
  assert.ok(decoded.known);
  assert.equal(decoded.event.metadata.schema_hint, 'x');
  assert.equal((decoded.event.payload as Record<string, unknown>).warehouse_zone, 'B-7');
});

test('createEvent fills metadata with the documented defaults', () => {
  const before = Date.now();
  const event = createEvent(EVENT_TYPES.lowStock, lowStockPayload, {
    tenantId: 'tenant-1',
    sourceService: 'inventory-service',
  });
  const m = event.metadata;
  assert.match(m.event_id, /^[0-9a-f-]{36}$/);
  assert.equal(m.event_type, 'inventory.low_stock');
  assert.equal(m.event_version, '1.0');
  assert.equal(m.correlation_id, m.event_id);
  assert.equal(m.priority, 'low');
  assert.match(m.timestamp, /Z$/);
  assert.ok(Date.parse(m.timestamp) >= before - 1 && Date.parse(m.timestamp) <= Date.now());
  assert.equal(event.payload.days_of_stock_remaining, undefined);
});

test('createEvent uses the options given', () => {
  const event = createEvent(EVENT_TYPES.lowStock, lowStockPayload, {
    tenantId: 't',
    sourceService: 'inventory-service',
    correlationId: 'corr-1',
    priority: 'medium',
    eventId: 'evt-1',
    timestamp: '2024-01-15T10:00:00Z',
  });
  assert.deepEqual(event.metadata, {
    event_id: 'evt-1',
    event_type: 'inventory.low_stock',
    event_version: '1.0',
    timestamp: '2024-01-15T10:00:00Z',
    source_service: 'inventory-service',
    tenant_id: 't',
    correlation_id: 'corr-1',
    priority: 'medium',
  });
});

test('createEvent refuses an invalid payload or tenant', () => {
  rejectsWith(
    'ERP_EVT_INVALID_PAYLOAD',
    () =>
      createEvent(
        EVENT_TYPES.lowStock,
        { ...lowStockPayload, unit_price: -1 },
        { tenantId: 't', sourceService: 's' },
      ),
    'payload.unit_price',
  );
  rejectsWith(
    'ERP_EVT_MISSING_TENANT',
    () => createEvent(EVENT_TYPES.lowStock, lowStockPayload, { tenantId: '', sourceService: 's' }),
    'metadata.tenant_id',
  );
  rejectsWith('ERP_EVT_INVALID_ENVELOPE', () =>
    createEvent(EVENT_TYPES.lowStock, lowStockPayload, {
      tenantId: 't',
      sourceService: 's',
      timestamp: 'now',
    }),
  );
});

test('round trip: createEvent -> encodeEvent -> decodeEnvelope -> decodeEvent', () => {
  const created = createEvent(
    EVENT_TYPES.stockAdjusted,
    {
      product_id: 'PRD-1',
      product_sku: 'SKU-1',
      quantity_change: -3,
      quantity_before: 10,
      quantity_after: 7,
      reason: 'sale',
    },
    { tenantId: 'tenant-1', sourceService: 'inventory-service', priority: 'medium' },
  );
  const encoded = encodeEvent(created);
  assert.ok(Buffer.isBuffer(encoded));
  const decoded = decodeEvent(decodeEnvelope(encoded));
  assert.ok(decoded.known);
  assert.equal(decoded.type, 'inventory.stock_adjusted');
  assert.deepEqual(decoded.event, created);
});

test('encodeEvent writes UTF-8 that survives non-ASCII text', () => {
  const created = createEvent(
    EVENT_TYPES.lowStock,
    { ...lowStockPayload, product_name: 'Käsefondue-Set 🧀', location: 'Lager Süd' },
    { tenantId: 'tenant-1', sourceService: 'inventory-service' },
  );
  const decoded = decodeEvent(decodeEnvelope(encodeEvent(created)));
  assert.ok(decoded.known);
  assert.deepEqual(decoded.event.payload, created.payload);
});

test('kafkaHeadersFor carries the routing and tracing fields as strings', () => {
  const envelope = decodeEnvelope(DOCUMENT_LOW_STOCK_JSON);
  assert.deepEqual(kafkaHeadersFor(envelope), {
    event_id: 'evt-123456',
    event_type: 'inventory.low_stock',
    event_version: '1.0',
    tenant_id: 'tenant-1',
    correlation_id: 'corr-789',
  });
});
