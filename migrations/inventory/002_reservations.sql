-- The order saga: stock reserved for orders that Sales placed and has not fulfilled or cancelled.
-- Available = on hand - reserved. A reservation locks its products' rows and is refused when it
-- would exceed what is available; the CHECK holds the line under any concurrency, including
-- stock adjustments that would take on hand below what is reserved.
ALTER TABLE products
  ADD COLUMN quantity_reserved integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT products_reserved_within_on_hand
    CHECK (quantity_reserved >= 0 AND quantity_reserved <= quantity_on_hand);

-- Read model of the order streams (stream_id 'order:<order id>' in events): what Inventory
-- decided for each order it saw. One row per order: a redelivered or replayed order_placed
-- finds it and does nothing, whatever the inbox says.
CREATE TABLE reservations (
  tenant_id   text NOT NULL,
  order_id    text NOT NULL,
  -- reserved → released (cancelled) | fulfilled; rejected; cancelled: cancelled before placed.
  status      text NOT NULL
    CHECK (status IN ('reserved', 'rejected', 'released', 'fulfilled', 'cancelled')),
  -- [{product_id, quantity}], one entry per product (an order's lines summed by product).
  lines       jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, order_id)
);
