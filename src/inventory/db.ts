/** Kysely table types of the Inventory database (migrations/inventory). */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface EventsTable {
  position: Generated<number>;
  transaction_id: Generated<string>;
  tenant_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  event_type: string;
  topic: string;
  message_key: string;
  envelope: ColumnType<unknown, string, string>;
  headers: ColumnType<Record<string, string>, string, string>;
  occurred_at: Timestamp;
  published_at: Timestamp | null;
}

export interface ProductsTable {
  id: string;
  tenant_id: string;
  sku: string;
  name: string;
  category: string;
  unit_price: number;
  quantity_on_hand: number;
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

export interface InventoryDB {
  events: EventsTable;
  products: ProductsTable;
  stock_movements: StockMovementsTable;
}
