-- The order saga: an order is PENDING until Inventory reserved its stock (CONFIRMED) or refused
-- (REJECTED); then CANCELLED or FULFILLED. Orders placed before the saga existed were 'pending'
-- with nothing reserved anywhere: they become PENDING and go through the saga's timeout
-- (REJECTED, reason timeout) unless cancelled first: Inventory never promised them stock.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
UPDATE orders SET status = upper(status);
ALTER TABLE orders
  ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'FULFILLED')),
  -- Why it was rejected or cancelled (insufficient_stock, unknown_product, timeout, customer).
  ADD COLUMN reason text,
  ADD COLUMN updated_at timestamptz;
UPDATE orders SET updated_at = created_at;
ALTER TABLE orders ALTER COLUMN updated_at SET NOT NULL;
-- The timeout sweeper's scan: only PENDING orders, oldest first.
CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'PENDING';

-- Every step of an order's saga, oldest first: what happened, the state after it, the event it
-- sent or consumed, and when.
CREATE TABLE order_history (
  id         bigserial PRIMARY KEY,
  tenant_id  text NOT NULL,
  order_id   text NOT NULL REFERENCES orders (id),
  step       text NOT NULL,
  status     text NOT NULL,
  reason     text,
  event_id   text,
  at         timestamptz NOT NULL
);
CREATE INDEX order_history_order ON order_history (tenant_id, order_id, id);
