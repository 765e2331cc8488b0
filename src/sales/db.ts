/**
 * Kysely types of the Sales tables (migrations/sales; the inbox and outbox are the messaging
 * layer's). Timestamps come back as Date on both
 * engines; int8 and numeric come back as numbers (see platform/database/database.ts).
 */
import type { ColumnType, Generated } from 'kysely';
import type { Priority } from '../contract/index.ts';
import type { InboxTable, OutboxTable } from '../messaging/index.ts';

export type AlertStatus = 'open' | 'acknowledged';
export type AlertChange = 'opened' | 'escalated' | 'updated' | 'acknowledged';
/** The order saga's states (orders-repository.ts has the transitions). */
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED' | 'FULFILLED';
export type NotificationStatus = 'pending' | 'sent' | 'failed';

export interface ProductsTable {
  tenant_id: string;
  product_id: string;
  sku: string;
  name: string | null;
  category: string | null;
  unit_price: number | null;
  quantity_on_hand: number;
  reorder_level: number | null;
  reorder_quantity: number | null;
  location: string | null;
  updated_at: Date;
}

export interface DemandHistoryTable {
  id: Generated<number>;
  tenant_id: string;
  product_id: string;
  quantity: number;
  occurred_at: Date;
}

export interface OrdersTable {
  id: string;
  tenant_id: string;
  customer: string;
  status: OrderStatus;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface OrderHistoryTable {
  id: Generated<number>;
  tenant_id: string;
  order_id: string;
  step: string;
  status: OrderStatus;
  reason: string | null;
  event_id: string | null;
  at: Date;
}

export interface OrderLinesTable {
  order_id: string;
  line_no: number;
  tenant_id: string;
  product_id: string;
  quantity: number;
}

export interface AlertsTable {
  id: string;
  tenant_id: string;
  product_id: string;
  product_sku: string;
  product_name: string;
  status: AlertStatus;
  priority: Priority;
  current_stock: number;
  reorder_level: number;
  pending_order_quantity: number;
  days_of_stock_remaining: number | null;
  source_event_id: string;
  opened_at: Date;
  updated_at: Date;
  acknowledged_at: Date | null;
}

export interface AlertHistoryTable {
  id: Generated<number>;
  alert_id: string;
  tenant_id: string;
  change: AlertChange;
  priority: Priority;
  event_id: string | null;
  at: Date;
}

export interface ForecastsTable {
  tenant_id: string;
  product_id: string;
  expected_daily_demand: number;
  pending_order_quantity: number;
  current_stock: number;
  days_of_stock_remaining: number | null;
  // A `date` column: written as YYYY-MM-DD, read back as text (see forecasts-repository.ts).
  stockout_date: ColumnType<string | null, string | null, string | null>;
  source_event_id: string;
  updated_at: Date;
}

export interface NotificationsTable {
  id: string;
  tenant_id: string;
  alert_id: string;
  channel: string;
  priority: Priority;
  message: string;
  status: NotificationStatus;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  sent_at: Date | null;
}

export interface SalesDB {
  inbox: InboxTable;
  products: ProductsTable;
  demand_history: DemandHistoryTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_history: OrderHistoryTable;
  alerts: AlertsTable;
  alert_history: AlertHistoryTable;
  forecasts: ForecastsTable;
  notifications: NotificationsTable;
  outbox: OutboxTable;
}
