-- Inventory: an event store that doubles as the transactional outbox, and its read models.
-- Applied by the service kit after the messaging layer's outbox table (events).

-- Every event of every product stream, in append order: the outbox the messaging layer defines
-- (src/messaging/outbox/table.ts, created before this file runs), plus the stream columns. A row
-- is published to Kafka by the relay after its transaction committed; published_at marks it done.
ALTER TABLE events
  ADD COLUMN stream_id       text NOT NULL,
  ADD COLUMN stream_version  integer NOT NULL,
  -- Optimistic concurrency: two writers appending the same version of one stream collide here.
  ADD CONSTRAINT events_stream_id_stream_version_key UNIQUE (stream_id, stream_version);
CREATE INDEX events_tenant_stream ON events (tenant_id, stream_id, stream_version);

-- Read model of product state, updated in the same transaction as the events it folds.
CREATE TABLE products (
  id                text PRIMARY KEY,
  tenant_id         text NOT NULL,
  sku               text NOT NULL,
  name              text NOT NULL,
  category          text NOT NULL,
  unit_price        numeric(14, 2) NOT NULL,
  quantity_on_hand  integer NOT NULL CHECK (quantity_on_hand >= 0),
  reorder_level     integer NOT NULL,
  reorder_quantity  integer NOT NULL,
  location          text NOT NULL,
  version           integer NOT NULL,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  UNIQUE (tenant_id, sku)
);
CREATE INDEX products_tenant ON products (tenant_id, created_at, id);

-- Read model of stock movements: the consumption rate behind days_of_stock_remaining.
CREATE TABLE stock_movements (
  id               bigserial PRIMARY KEY,
  tenant_id        text NOT NULL,
  product_id       text NOT NULL,
  quantity_change  integer NOT NULL,
  quantity_after   integer NOT NULL,
  reason           text NOT NULL,
  occurred_at      timestamptz NOT NULL
);
CREATE INDEX stock_movements_product ON stock_movements (tenant_id, product_id, occurred_at);
