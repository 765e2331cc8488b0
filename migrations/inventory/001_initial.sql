-- Inventory: an event store that doubles as the transactional outbox, and its read models.

-- Every event of every product stream, in append order. A row is published to Kafka by the
-- relay after its transaction committed; published_at marks it done.
CREATE TABLE events (
  position        bigserial PRIMARY KEY,
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  tenant_id       text NOT NULL,
  stream_id       text NOT NULL,
  stream_version  integer NOT NULL,
  event_id        text NOT NULL UNIQUE,
  event_type      text NOT NULL,
  topic           text NOT NULL,
  message_key     text NOT NULL,
  envelope        json NOT NULL,  -- json, not jsonb: keeps the text (and key order) as written
  headers         jsonb NOT NULL,
  occurred_at     timestamptz NOT NULL,
  published_at    timestamptz,
  -- Optimistic concurrency: two writers appending the same version of one stream collide here.
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_unpublished ON events (position) WHERE published_at IS NULL;
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
