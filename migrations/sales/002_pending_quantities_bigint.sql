-- Units on pending orders are a sum over all of a tenant's orders of a product: each line is
-- bounded (1,000,000 units, 100 lines an order), their sum is not. 22 orders of 100 full lines
-- already pass integer's 2,147,483,647, and a low-stock event must never be lost because a sum it
-- derives overflows. bigint holds any sum PostgreSQL computes from these integer columns.
ALTER TABLE alerts ALTER COLUMN pending_order_quantity TYPE bigint;
ALTER TABLE forecasts ALTER COLUMN pending_order_quantity TYPE bigint;
