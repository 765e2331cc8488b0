/** Kysely table types of the Inventory database (migrations/inventory; the outbox shape is the messaging layer's). */
import type { ColumnType, Generated } from 'kysely';
import type { OutboxTable } from '../messaging/index.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** The event store: an outbox (the relay publishes it) whose rows are product streams. */
export interface EventsTable extends OutboxTable {
  stream_id: string;
  stream_version: number;
}

export interface ProductsTable {
  id: string;
  tenant_id: string;
  sku: string;
  name: string;
  category: string;
  unit_price: number;
  quantity_on_hand: number;
  quantity_reserved: Generated<number>;
  reorder_level: number;
  reorder_quantity: number;
  location: string;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface StockMovementsTable {
  id: Generated<number>;
  tenant_id: string;
  product_id: string;
  quantity_change: number;
  quantity_after: number;
  reason: string;
  occurred_at: Timestamp;
}

export type ReservationStatus = 'reserved' | 'rejected' | 'released' | 'fulfilled' | 'cancelled';

/** Read model of the order streams: what Inventory decided for each order (reservations.ts). */
export interface ReservationsTable {
  tenant_id: string;
  order_id: string;
  status: ReservationStatus;
  lines: ColumnType<{ product_id: string; quantity: number }[], string, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InventoryDB {
  events: EventsTable;
  products: ProductsTable;
  stock_movements: StockMovementsTable;
  reservations: ReservationsTable;
}
