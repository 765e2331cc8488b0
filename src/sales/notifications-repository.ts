/**
 * Notifications to people, written in the handler's transaction and delivered after it commits.
 * The dispatcher's reads span tenants on purpose (it works for all of them); every write names
 * the row's tenant.
 */
import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Priority } from '../contract/index.ts';
import type { NotificationsTable, SalesDB } from './db.ts';

export type StoredNotification = Selectable<NotificationsTable>;

export interface NewNotification {
  alertId: string;
  channel: string;
  priority: Priority;
  message: string;
}

/** Notifications of several tenants and times in one statement (the low-stock write embeds it). */
export function insertNotificationsQuery(
  trx: Kysely<SalesDB>,
  rows: readonly Insertable<NotificationsTable>[],
) {
  return trx.insertInto('notifications').values(rows);
}

/** A pending notification row for `alertId`, due at `at`. */
export function newNotificationRow(
  tenantId: string,
  n: NewNotification,
  at: Date,
): Insertable<NotificationsTable> {
  return {
    id: randomUUID(),
    tenant_id: tenantId,
    alert_id: n.alertId,
    channel: n.channel,
    priority: n.priority,
    message: n.message,
    status: 'pending',
    next_attempt_at: at,
    created_at: at,
  };
}

/**
 * Claims up to `limit` due notifications: counts the attempt and pushes `next_attempt_at` to
 * `leaseUntil`, so another dispatcher skips them meanwhile and a crash mid-send retries later.
 */
export async function claimDueNotifications(
  db: Kysely<SalesDB>,
  now: Date,
  leaseUntil: Date,
  limit: number,
): Promise<StoredNotification[]> {
  return db
    .updateTable('notifications')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('notifications')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
}

export async function markNotificationSent(
  db: Kysely<SalesDB>,
  tenantId: string,
  id: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ status: 'sent', sent_at: at, last_error: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

/** `retryAt` null: give up (status failed); otherwise stay pending until then. */
export async function markNotificationAttemptFailed(
  db: Kysely<SalesDB>,
  tenantId: string,
  id: string,
  error: string,
  retryAt: Date | null,
): Promise<void> {
  await db
    .updateTable('notifications')
    .set(
      retryAt === null
        ? { status: 'failed', last_error: error }
        : { last_error: error, next_attempt_at: retryAt },
    )
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export async function listNotificationsForAlert(
  db: Kysely<SalesDB>,
  tenantId: string,
  alertId: string,
): Promise<StoredNotification[]> {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('alert_id', '=', alertId)
    .orderBy('created_at')
    .orderBy('channel')
    .execute();
}
