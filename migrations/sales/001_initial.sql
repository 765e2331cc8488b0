-- Sales: its own read model of products, orders, alerts, forecasts, notifications. The inbox and
-- the outbox are the messaging layer's tables (src/messaging/inbox/table.ts, outbox/table.ts),
-- created by the service kit before this file runs.

-- Catalog fields are null while only a stock_adjusted has been seen for the product (it carries
-- no name, price or reorder figures); inventory.product_created fills them in.
CREATE TABLE products (
  tenant_id         text NOT NULL,
  product_id        text NOT NULL,
  sku               text NOT NULL,
  name              text,
  category          text,
  unit_price        numeric(14, 2),
  quantity_on_hand  integer NOT NULL,
  reorder_level     integer,
  reorder_quantity  integer,
  location          text,
  updated_at        timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, product_id)
);

-- Outflows seen in inventory.stock_adjusted events: the demand history behind forecasts.
CREATE TABLE demand_history (
  id           bigserial PRIMARY KEY,
  tenant_id    text NOT NULL,
  product_id   text NOT NULL,
  quantity     integer NOT NULL CHECK (quantity > 0),
  occurred_at  timestamptz NOT NULL
);
CREATE INDEX demand_history_product ON demand_history (tenant_id, product_id, occurred_at);

CREATE TABLE orders (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL,
  customer     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'fulfilled', 'cancelled')),
  created_at   timestamptz NOT NULL
);
CREATE INDEX orders_tenant ON orders (tenant_id, created_at, id);

CREATE TABLE order_lines (
  order_id    text NOT NULL REFERENCES orders (id),
  line_no     integer NOT NULL,
  tenant_id   text NOT NULL,
  product_id  text NOT NULL,
  quantity    integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_lines_product ON order_lines (tenant_id, product_id);

CREATE TABLE alerts (
  id                      text PRIMARY KEY,
  tenant_id               text NOT NULL,
  product_id              text NOT NULL,
  product_sku             text NOT NULL,
  product_name            text NOT NULL,
  status                  text NOT NULL CHECK (status IN ('open', 'acknowledged')),
  priority                text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  current_stock           integer NOT NULL,
  reorder_level           integer NOT NULL,
  pending_order_quantity  integer NOT NULL,
  days_of_stock_remaining double precision,
  source_event_id         text NOT NULL,
  opened_at               timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL,
  acknowledged_at         timestamptz
);
-- At most one open alert per product and tenant; later events update or escalate it.
CREATE UNIQUE INDEX alerts_one_open ON alerts (tenant_id, product_id) WHERE status = 'open';
CREATE INDEX alerts_tenant_status ON alerts (tenant_id, status, opened_at);

CREATE TABLE alert_history (
  id          bigserial PRIMARY KEY,
  alert_id    text NOT NULL REFERENCES alerts (id),
  tenant_id   text NOT NULL,
  change      text NOT NULL CHECK (change IN ('opened', 'escalated', 'updated', 'acknowledged')),
  priority    text NOT NULL,
  event_id    text,
  at          timestamptz NOT NULL
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

CREATE TABLE forecasts (
  tenant_id               text NOT NULL,
  product_id              text NOT NULL,
  expected_daily_demand   double precision NOT NULL,
  pending_order_quantity  integer NOT NULL,
  current_stock           integer NOT NULL,
  days_of_stock_remaining double precision,
  stockout_date           date,
  source_event_id         text NOT NULL,
  updated_at              timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, product_id)
);

-- Notifications are written in the handler's transaction and delivered after it commits.
CREATE TABLE notifications (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL,
  alert_id    text NOT NULL REFERENCES alerts (id),
  channel     text NOT NULL,
  priority    text NOT NULL,
  message     text NOT NULL,
  status      text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  -- Not before this time: a dispatcher claiming the row pushes it forward (a lease, so that two
  -- instances do not send the same row at once); a failed attempt pushes it by the backoff.
  next_attempt_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL,
  sent_at     timestamptz
);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE status = 'pending';
