/**
 * The order saga's final check, from both databases and Kafka, after the scenario let the system
 * settle: every order is in a final state (or legitimately PENDING), Sales and Inventory agree on
 * each order, every product's reserved and on-hand units are what the orders say, and no step
 * had its effect twice. Each check counts violations; the scenario asserts every count is 0.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGroupLagReader, topicOffsets } from '../../src/messaging/kafka/index.ts';
import type { OrderStatus } from '../../src/sales/db.ts';
import { FAULTS_DIR, say } from './harness.ts';
import type { Scenario } from './harness.ts';
import type { SagaOrder, SagaProduct, SagaRequest } from './saga-load.ts';
import { savedResults } from './verify.ts';

const RESULTS_DIR = join(FAULTS_DIR, 'results');
const SAGA_COMMANDS = ['sales.order_placed', 'sales.order_cancelled', 'sales.order_fulfilled'];
const SALES_HANDLES = [
  'inventory.product_created',
  'inventory.stock_adjusted',
  'inventory.low_stock',
  'inventory.stock_reserved',
  'inventory.stock_reservation_rejected',
  'inventory.stock_released',
];

/** Violations per check; every one must be 0. */
export interface SagaChecks {
  /** A 201 for an order Sales does not have. */
  placedLost: number;
  /** An order in Sales that no request of the load asked for. */
  orphanOrders: number;
  /**
   * A cancel (fulfil) answered 200 or committed (its Idempotency-Key stored) whose order is not
   * CANCELLED (FULFILLED); one refused or not committed whose order is.
   */
  actionLost: number;
  actionRefusedButApplied: number;
  /** PENDING past the timeout, or PENDING although Sales already consumed Inventory's answer. */
  stuckPending: number;
  /** An order history with a step twice, or a consumed or sent event recorded twice. */
  historyDoubled: number;
  /** A history that does not start with `placed` or does not end in the order's state. */
  historyMismatch: number;
  /** Sales' outbox: an order placed, cancelled or fulfilled other than once (or not at all). */
  outboxDoubled: number;
  /** An order stream in Inventory with two decisions, two releases, or a release of nothing. */
  streamDoubled: number;
  /** An order in a final state that Inventory never decided. */
  decisionMissing: number;
  /** Sales' state and Inventory's reservation disagree (CONFIRMED ⇔ reserved, …). */
  disagreements: number;
  /** An order asking for more than the product ever had that Inventory did not reject. */
  oversizedNotRejected: number;
  /** Products whose reserved units differ from the CONFIRMED orders (or the streams' fold). */
  reservedMismatch: number;
  /** Products whose on hand differs from initial − FULFILLED (or the stream, or Sales' view). */
  onHandMismatch: number;
  /** A fulfilled line with more than one outflow (or a wrong one), or an outflow of an order not FULFILLED. */
  outflowsDoubled: number;
  outflowsMissing: number;
  /** Sales' demand_history rows minus the outflows Inventory committed. */
  demandDelta: number;
  /** inventory.low_stock events without their alert_history row / with more than one. */
  lowStockMissing: number;
  lowStockDoubled: number;
  /** Records in the two dead-letter topics. */
  deadLetters: number;
  /**
   * Consumer transactions that failed with a deadlock or serialization conflict (ERP_DB_CONFLICT
   * in the services' logs). Retried, so nothing is lost, but Inventory locks a transaction's
   * products in one order so that there are none; and five in a row dead-letter the event.
   */
  dbConflicts: number;
  /** A service process that exited on its own. */
  unplannedExits: number;
}

export interface SagaFigures {
  kind: 'saga';
  scenario: string;
  /** Orders the load started; placements answered 201 / refused / unknown (and of those, committed). */
  orders: number;
  placed: number;
  placeRefused: number;
  placeUnknown: number;
  placeUnknownCommitted: number;
  /** Cancels and fulfils sent (and answered 200); of them, without an answer (and committed). */
  cancels: number;
  cancelsOk: number;
  fulfils: number;
  fulfilsOk: number;
  actionsUnknown: number;
  actionsUnknownCommitted: number;
  /** Cancels and fulfils refused, by error code (e.g. a cancel after the timeout rejected the order). */
  actionsRefusedBy: Record<string, number>;
  /** Requests (any) that needed a retry; of them, cancels and fulfils. */
  retried: number;
  actionsRetried: number;
  /** Orders Inventory reserved in time (Sales' `reserved` step). */
  confirmed: number;
  /** Final states in Sales. */
  final: Record<OrderStatus, number>;
  /** REJECTED orders by reason. */
  rejectedBy: Record<string, number>;
  /** CANCELLED before Inventory answered; reservations that came after the order left PENDING. */
  cancelledPending: number;
  lateReservations: number;
  oversized: number;
  /** PENDING at the check and legitimately so (younger than the timeout: see stuckPending). */
  pendingLegit: number;
  /** Redeliveries each inbox made a no-op (the services' metric, over every incarnation). */
  duplicates: { sales: number; inventory: number };
  lowStock: number;
  /** Settle time after the load stopped, s. */
  settledSeconds: number;
  checks: SagaChecks;
  kills: string[];
  notes: string;
}

async function rows<T extends object>(
  pool: Scenario['salesDb']['pool'],
  text: string,
): Promise<T[]> {
  return (await pool.query<T>(text)).rows;
}

const kafka = (s: Scenario) => ({ clientId: 'faults-saga-probe', bootstrapServers: s.bootstrap });

/** Records of the scenario's dead-letter topics (a topic not created yet holds none). */
async function deadLetters(s: Scenario): Promise<number> {
  let n = 0;
  for (const topic of [`${s.salesTopic}.dlq`, `${s.inventoryTopic}.dlq`]) {
    const ends = await topicOffsets(kafka(s), topic, 'latest').catch(() => new Map());
    for (const end of ends.values()) n += Number(end);
  }
  return n;
}

/** What is still to do, each figure 0 once the system settled. */
async function backlog(s: Scenario, inventoryGroup: string): Promise<Record<string, number>> {
  const inv = s.inventoryDb.pool;
  const sal = s.salesDb.pool;
  const one = async (pool: typeof inv, text: string) =>
    (await rows<{ n: number }>(pool, text))[0]!.n;
  const events = await rows<{ event_id: string; event_type: string }>(
    inv,
    'SELECT event_id, event_type FROM events',
  );
  const salesSeen = new Set(
    (await rows<{ event_id: string }>(sal, 'SELECT event_id FROM inbox')).map((r) => r.event_id),
  );
  const commands = await rows<{ event_id: string }>(
    sal,
    `SELECT event_id FROM outbox WHERE event_type IN (${SAGA_COMMANDS.map((t) => `'${t}'`).join(',')})`,
  );
  const inventorySeen = new Set(
    (await rows<{ event_id: string }>(inv, 'SELECT event_id FROM inbox')).map((r) => r.event_id),
  );
  const lag = createGroupLagReader(kafka(s));
  let lagSales = -1;
  let lagInventory = -1;
  try {
    const sum = (l: { lag: bigint }[]) => l.reduce((n, p) => n + Number(p.lag), 0);
    lagSales = sum(await lag.read(s.group, [s.inventoryTopic]));
    lagInventory = sum(await lag.read(inventoryGroup, [s.salesTopic]));
  } catch {
    // a broker still electing: read again on the next round
  } finally {
    await lag.close();
  }
  return {
    inventoryUnpublished: await one(
      inv,
      'SELECT count(*)::int AS n FROM events WHERE published_at IS NULL',
    ),
    salesUnpublished: await one(
      sal,
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    ),
    notInSalesInbox: events.filter(
      (e) => SALES_HANDLES.includes(e.event_type) && !salesSeen.has(e.event_id),
    ).length,
    notInInventoryInbox: commands.filter((e) => !inventorySeen.has(e.event_id)).length,
    pending: await one(sal, "SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'"),
    lagSales,
    lagInventory,
  };
}

/**
 * Waits until both outboxes are published, both inboxes hold every saga event, no order is
 * PENDING and both groups committed to the end (or `timeoutMs` passes: the checks then say what
 * is wrong). Returns the seconds it took.
 */
export async function waitForSaga(
  s: Scenario,
  inventoryGroup: string,
  timeoutMs = 120_000,
): Promise<number> {
  const started = Date.now();
  let lastSaid = 0;
  for (;;) {
    const left = await backlog(s, inventoryGroup);
    if (Object.values(left).every((n) => n === 0)) return (Date.now() - started) / 1000;
    if (Date.now() - lastSaid > 5_000) {
      say(`saga settling: ${JSON.stringify(left)}`);
      lastSaid = Date.now();
    }
    if (Date.now() - started > timeoutMs) {
      say(`gave up after ${timeoutMs / 1000} s: ${JSON.stringify(left)}`);
      return (Date.now() - started) / 1000;
    }
    await sleep(500);
  }
}

/** Lines of a service log that report a failed consumer transaction with ERP_DB_CONFLICT. */
function conflictsIn(logFile: string): number {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return 0;
  }
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.includes('ERP_DB_CONFLICT')) continue;
    try {
      const entry = JSON.parse(line) as { component?: string; err?: { code?: string } };
      if (entry.component === 'inbox-consumer' && entry.err?.code === 'ERP_DB_CONFLICT') n++;
    } catch {
      // not a log line of ours
    }
  }
  return n;
}

export interface SagaVerifyInput {
  orders: SagaOrder[];
  products: SagaProduct[];
  /** ORDER_SAGA_TIMEOUT_MS of the Sales processes. */
  timeoutMs: number;
  duplicates: { sales: number; inventory: number };
  unplannedExits: number;
  settledSeconds: number;
  /** Logs of the service processes (every incarnation appends to its process's file). */
  logFiles: string[];
  kills: string[];
  notes?: string;
}

type Line = { product_id: string; quantity: number };

const count = <K extends string>(keys: Iterable<K>): Map<K, number> => {
  const m = new Map<K, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
};

/** Units per product over `lines`. */
function units(lines: Iterable<Line>): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l.product_id, (m.get(l.product_id) ?? 0) + Number(l.quantity));
  return m;
}

export async function verifySaga(s: Scenario, input: SagaVerifyInput): Promise<SagaFigures> {
  const inv = s.inventoryDb.pool;
  const sal = s.salesDb.pool;
  const checkedAt = Date.now();

  // Sales
  const orders = await rows<{
    id: string;
    status: OrderStatus;
    reason: string | null;
    created_at: Date;
  }>(sal, 'SELECT id, status, reason, created_at FROM orders');
  const orderLines = await rows<Line & { order_id: string }>(
    sal,
    'SELECT order_id, product_id, quantity FROM order_lines',
  );
  const history = await rows<{
    order_id: string;
    step: string;
    status: OrderStatus;
    event_id: string | null;
  }>(sal, 'SELECT order_id, step, status, event_id FROM order_history ORDER BY id');
  const keys = await rows<{ key: string; status: number; order_id: string | null }>(
    sal,
    "SELECT key, status, body->>'id' AS order_id FROM idempotency_keys",
  );
  const outbox = await rows<{ event_type: string; message_key: string }>(
    sal,
    'SELECT event_type, message_key FROM outbox',
  );
  const salesProducts = await rows<{ product_id: string; quantity_on_hand: number }>(
    sal,
    'SELECT product_id, quantity_on_hand FROM products',
  );
  const demand = (
    await rows<{ n: number }>(sal, 'SELECT count(*)::int AS n FROM demand_history')
  )[0]!.n;
  const alertEffects = count(
    (
      await rows<{ event_id: string }>(
        sal,
        'SELECT event_id FROM alert_history WHERE event_id IS NOT NULL',
      )
    ).map((r) => r.event_id),
  );

  // Inventory
  const products = await rows<{
    id: string;
    quantity_on_hand: number;
    quantity_reserved: number;
  }>(inv, 'SELECT id, quantity_on_hand, quantity_reserved FROM products');
  const reservations = await rows<{ order_id: string; status: string; lines: Line[] }>(
    inv,
    'SELECT order_id, status, lines FROM reservations',
  );
  const events = await rows<{
    event_id: string;
    event_type: string;
    stream_id: string;
    payload: Record<string, unknown>;
  }>(
    inv,
    "SELECT event_id, event_type, stream_id, envelope->'payload' AS payload FROM events ORDER BY stream_id, stream_version",
  );

  const checks: SagaChecks = {
    placedLost: 0,
    orphanOrders: 0,
    actionLost: 0,
    actionRefusedButApplied: 0,
    stuckPending: 0,
    historyDoubled: 0,
    historyMismatch: 0,
    outboxDoubled: 0,
    streamDoubled: 0,
    decisionMissing: 0,
    disagreements: 0,
    oversizedNotRejected: 0,
    reservedMismatch: 0,
    onHandMismatch: 0,
    outflowsDoubled: 0,
    outflowsMissing: 0,
    demandDelta: 0,
    lowStockMissing: 0,
    lowStockDoubled: 0,
    deadLetters: await deadLetters(s),
    dbConflicts: input.logFiles.reduce((n, file) => n + conflictsIn(file), 0),
    unplannedExits: input.unplannedExits,
  };
  const orderById = new Map(orders.map((o) => [o.id, o]));
  const linesOf = new Map<string, Line[]>();
  for (const l of orderLines) linesOf.set(l.order_id, [...(linesOf.get(l.order_id) ?? []), l]);
  const historyOf = new Map<string, typeof history>();
  for (const h of history) historyOf.set(h.order_id, [...(historyOf.get(h.order_id) ?? []), h]);
  const reservationOf = new Map(reservations.map((r) => [r.order_id, r]));
  const streamOf = new Map<string, typeof events>();
  for (const e of events) streamOf.set(e.stream_id, [...(streamOf.get(e.stream_id) ?? []), e]);
  const keyToOrder = new Map(keys.map((k) => [k.key, k]));

  // The load's requests against Sales' orders. A key in idempotency_keys means the request's
  // effect committed (they are written in one transaction), whatever its sender heard.
  const committed = (r: SagaRequest) => keyToOrder.has(r.key);
  const known = new Set<string>();
  const oversized = new Set<string>();
  let placeUnknownCommitted = 0;
  let actionsUnknownCommitted = 0;
  for (const o of input.orders) {
    let id = o.id;
    if (o.place.outcome === 'unknown' && committed(o.place)) {
      placeUnknownCommitted++;
      id = keyToOrder.get(o.place.key)!.order_id ?? undefined;
    }
    if (id === undefined) continue;
    known.add(id);
    const order = orderById.get(id);
    if (order === undefined) {
      checks.placedLost++;
      continue;
    }
    if (o.oversized) oversized.add(id);
    const a = o.action;
    if (a === undefined) continue;
    const target: OrderStatus = a.kind === 'cancel' ? 'CANCELLED' : 'FULFILLED';
    if (a.request.outcome === 'unknown' && committed(a.request)) actionsUnknownCommitted++;
    // One action per order: the order is in its target state if and only if the action committed.
    const applied = a.request.outcome === 'ok' || committed(a.request);
    if (applied && order.status !== target) checks.actionLost++;
    if (!applied && order.status === target) checks.actionRefusedButApplied++;
  }
  for (const o of orders) if (!known.has(o.id)) checks.orphanOrders++;

  // Each order: its state, its history, its outbox rows, its stream, and the two sides' agreement.
  const sent = count(outbox.map((r) => `${r.message_key} ${r.event_type}`));
  const sweepSlackMs = Math.min(5_000, input.timeoutMs / 10) + 1_000;
  let pendingLegit = 0;
  let lateReservations = 0;
  let confirmed = 0;
  let cancelledPending = 0;
  const final = { PENDING: 0, CONFIRMED: 0, REJECTED: 0, CANCELLED: 0, FULFILLED: 0 };
  const rejectedBy: Record<string, number> = {};
  for (const o of orders) {
    final[o.status]++;
    if (o.status === 'REJECTED')
      rejectedBy[o.reason ?? '?'] = (rejectedBy[o.reason ?? '?'] ?? 0) + 1;
    const steps = historyOf.get(o.id) ?? [];
    const names = steps.map((h) => h.step);
    if (names.includes('reserved')) confirmed++;
    if (names.includes('late_reservation')) lateReservations++;
    if (o.status === 'CANCELLED' && !names.includes('reserved')) cancelledPending++;
    if ([...count(names).values()].some((n) => n > 1)) checks.historyDoubled++;
    const ids = steps.flatMap((h) => (h.event_id === null ? [] : [h.event_id]));
    if (new Set(ids).size !== ids.length) checks.historyDoubled++;
    if (names[0] !== 'placed' || steps.at(-1)?.status !== o.status) checks.historyMismatch++;

    const placedSent = sent.get(`${o.id} sales.order_placed`) ?? 0;
    const cancelSent = sent.get(`${o.id} sales.order_cancelled`) ?? 0;
    const fulfilSent = sent.get(`${o.id} sales.order_fulfilled`) ?? 0;
    const cancelExpected =
      o.status === 'CANCELLED' || (o.status === 'REJECTED' && o.reason === 'timeout') ? 1 : 0;
    if (
      placedSent !== 1 ||
      cancelSent !== cancelExpected ||
      fulfilSent !== (o.status === 'FULFILLED' ? 1 : 0)
    )
      checks.outboxDoubled++;

    const stream = streamOf.get(`order:${o.id}`) ?? [];
    const types = count(stream.map((e) => e.event_type));
    const reserved = types.get('inventory.stock_reserved') ?? 0;
    const rejected = types.get('inventory.stock_reservation_rejected') ?? 0;
    const released = types.get('inventory.stock_released') ?? 0;
    if (reserved + rejected > 1 || released > reserved) checks.streamDoubled++;
    // Rejected by Inventory, whatever Sales' reason (it may have timed the order out first).
    if (oversized.has(o.id) && (o.status !== 'REJECTED' || rejected !== 1))
      checks.oversizedNotRejected++;
    const reservation = reservationOf.get(o.id);
    if (o.status === 'PENDING') {
      // Legitimately PENDING: the timeout has not passed yet (the sweeper would reject it), and
      // Sales has not consumed an answer (it would have left PENDING in that transaction).
      const young = checkedAt - o.created_at.getTime() < input.timeoutMs + sweepSlackMs;
      const answered = names.some((n) => n === 'reserved' || n === 'rejected');
      if (young && !answered) pendingLegit++;
      else checks.stuckPending++;
      continue;
    }
    if (reserved + rejected === 0 || reservation === undefined) {
      checks.decisionMissing++;
      continue;
    }
    // What Inventory must hold for each state in Sales.
    const allowed: Record<Exclude<OrderStatus, 'PENDING'>, string[]> = {
      CONFIRMED: ['reserved'],
      FULFILLED: ['fulfilled'],
      CANCELLED: ['released', 'rejected'],
      REJECTED: o.reason === 'timeout' ? ['released', 'rejected'] : ['rejected'],
    };
    const streamSays =
      released === 1
        ? stream.at(-1)?.payload['reason'] === 'fulfilled'
          ? 'fulfilled'
          : 'released'
        : reserved === 1
          ? 'reserved'
          : 'rejected';
    if (!allowed[o.status].includes(reservation.status) || reservation.status !== streamSays)
      checks.disagreements++;
  }
  for (const r of reservations) if (!orderById.has(r.order_id)) checks.disagreements++;

  // Products: reserved and on hand, from four sides (Sales' orders, Inventory's read model, the
  // reservations, the event streams), and Sales' own view of the stock.
  const linesIn = (status: OrderStatus) =>
    orders.filter((o) => o.status === status).flatMap((o) => linesOf.get(o.id) ?? []);
  const reservedBySales = units(linesIn('CONFIRMED'));
  const fulfilledBySales = units(linesIn('FULFILLED'));
  const reservedByRows = units(
    reservations.filter((r) => r.status === 'reserved').flatMap((r) => r.lines),
  );
  const reservedByStreams = units(
    [...streamOf]
      .filter(
        ([id, st]) =>
          id.startsWith('order:') && st.at(-1)?.event_type === 'inventory.stock_reserved',
      )
      .flatMap(([, st]) => st.at(-1)!.payload['lines'] as Line[]),
  );
  const salesOnHand = new Map(salesProducts.map((p) => [p.product_id, Number(p.quantity_on_hand)]));
  for (const p of input.products) {
    const row = products.find((x) => x.id === p.id);
    const reservedNow = Number(row?.quantity_reserved ?? -1);
    const onHandNow = Number(row?.quantity_on_hand ?? -1);
    if (
      reservedNow !== (reservedBySales.get(p.id) ?? 0) ||
      reservedNow !== (reservedByRows.get(p.id) ?? 0) ||
      reservedNow !== (reservedByStreams.get(p.id) ?? 0)
    )
      checks.reservedMismatch++;
    const stream = streamOf.get(p.id) ?? [];
    const folded = stream.reduce(
      (n, e) =>
        e.event_type === 'inventory.product_created'
          ? Number(e.payload['quantity_on_hand'])
          : e.event_type === 'inventory.stock_adjusted'
            ? n + Number(e.payload['quantity_change'])
            : n,
      0,
    );
    if (
      onHandNow !== p.initial - (fulfilledBySales.get(p.id) ?? 0) ||
      onHandNow !== folded ||
      onHandNow !== salesOnHand.get(p.id)
    )
      checks.onHandMismatch++;
  }

  // Outflows: one stock_adjusted per fulfilled order and product, of its units, and no other.
  const outflows = events.filter(
    (e) => e.event_type === 'inventory.stock_adjusted' && Number(e.payload['quantity_change']) < 0,
  );
  const outflowOf = new Map<string, number[]>();
  for (const e of outflows) {
    const id = String(e.payload['adjustment_id']);
    outflowOf.set(id, [...(outflowOf.get(id) ?? []), -Number(e.payload['quantity_change'])]);
  }
  const expected = new Set<string>();
  for (const o of orders.filter((x) => x.status === 'FULFILLED')) {
    for (const [product, qty] of units(linesOf.get(o.id) ?? [])) {
      const id = `${o.id}/${product}`;
      expected.add(id);
      const got = outflowOf.get(id) ?? [];
      if (got.length === 0) checks.outflowsMissing++;
      else if (got.length > 1 || got[0] !== qty) checks.outflowsDoubled++;
    }
  }
  for (const id of outflowOf.keys()) if (!expected.has(id)) checks.outflowsDoubled++;
  checks.demandDelta = demand - outflows.length;

  const lowStock = events.filter((e) => e.event_type === 'inventory.low_stock');
  for (const e of lowStock) {
    const n = alertEffects.get(e.event_id) ?? 0;
    if (n === 0) checks.lowStockMissing++;
    if (n > 1) checks.lowStockDoubled++;
  }

  const actions = input.orders.flatMap((o) => (o.action ? [o.action] : []));
  const requests = [...input.orders.map((o) => o.place), ...actions.map((a) => a.request)];
  return {
    kind: 'saga',
    scenario: s.name,
    orders: input.orders.length,
    placed: input.orders.filter((o) => o.place.outcome === 'ok').length,
    placeRefused: input.orders.filter((o) => o.place.outcome === 'refused').length,
    placeUnknown: input.orders.filter((o) => o.place.outcome === 'unknown').length,
    placeUnknownCommitted,
    cancels: actions.filter((a) => a.kind === 'cancel').length,
    cancelsOk: actions.filter((a) => a.kind === 'cancel' && a.request.outcome === 'ok').length,
    fulfils: actions.filter((a) => a.kind === 'fulfil').length,
    fulfilsOk: actions.filter((a) => a.kind === 'fulfil' && a.request.outcome === 'ok').length,
    actionsUnknown: actions.filter((a) => a.request.outcome === 'unknown').length,
    actionsUnknownCommitted,
    actionsRefusedBy: Object.fromEntries(
      count(
        actions.flatMap((a) =>
          a.request.outcome === 'refused' ? [`${a.kind} ${a.request.code ?? '?'}`] : [],
        ),
      ),
    ),
    retried: requests.filter((r) => r.attempts > 1).length,
    actionsRetried: actions.filter((a) => a.request.attempts > 1).length,
    confirmed,
    final,
    rejectedBy,
    cancelledPending,
    lateReservations,
    oversized: input.orders.filter((o) => o.oversized).length,
    pendingLegit,
    duplicates: input.duplicates,
    lowStock: lowStock.length,
    settledSeconds: input.settledSeconds,
    checks,
    kills: input.kills,
    notes: input.notes ?? '',
  };
}

export function printSagaFigures(f: SagaFigures): void {
  const failed = Object.entries(f.checks).filter(([, n]) => n !== 0);
  const reasons = Object.entries(f.rejectedBy)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  say(
    `${f.scenario}: orders ${f.orders} (placed ${f.placed}, refused ${f.placeRefused}, unknown ${f.placeUnknown} of which committed ${f.placeUnknownCommitted}); ` +
      `confirmed ${f.confirmed}, rejected ${f.final.REJECTED} (${reasons}; oversized ${f.oversized}), ` +
      `cancelled ${f.final.CANCELLED} (${f.cancelledPending} before an answer; cancels ok ${f.cancelsOk}/${f.cancels}), ` +
      `fulfilled ${f.final.FULFILLED} (fulfils ok ${f.fulfilsOk}/${f.fulfils}), still confirmed ${f.final.CONFIRMED}, pending ${f.final.PENDING} (legitimately ${f.pendingLegit}); ` +
      `requests retried ${f.retried} (cancels and fulfils ${f.actionsRetried}), actions unknown ${f.actionsUnknown} of which committed ${f.actionsUnknownCommitted}, refused ${JSON.stringify(f.actionsRefusedBy)}; late reservations ${f.lateReservations}; low_stock ${f.lowStock}; ` +
      `duplicates suppressed sales ${f.duplicates.sales}, inventory ${f.duplicates.inventory}; settled in ${f.settledSeconds.toFixed(1)} s; ` +
      `kills: ${f.kills.join(', ') || 'none'}; ` +
      `checks ${Object.keys(f.checks).length - failed.length}/${Object.keys(f.checks).length} at 0` +
      (failed.length > 0 ? ` (FAILED: ${failed.map(([k, n]) => `${k} ${n}`).join(', ')})` : '') +
      (f.notes ? `; ${f.notes}` : ''),
  );
}

export function saveSagaFigures(f: SagaFigures): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${f.scenario.replace(/[^\w-]/g, '_')}.json`),
    JSON.stringify(f, null, 2),
  );
}

/** The table of the saga scenarios saved by this run; empty when there were none. */
export function sagaResultsTable(): string {
  const rows = (savedResults() as Partial<SagaFigures>[])
    .filter((r): r is SagaFigures => r.kind === 'saga')
    .sort((x, y) => x.scenario.localeCompare(y.scenario));
  if (rows.length === 0) return '';
  const head = [
    'saga scenario',
    'orders',
    'confirmed',
    'rejected',
    'cancelled',
    'fulfilled',
    'kept',
    'pending',
    'retried',
    'dups s/i',
    'kills',
    'checks at 0',
  ];
  const body = rows.map((f) => {
    const total = Object.keys(f.checks).length;
    const ok = Object.values(f.checks).filter((n) => n === 0).length;
    return [
      f.scenario,
      String(f.orders),
      String(f.confirmed),
      String(f.final.REJECTED),
      String(f.final.CANCELLED),
      String(f.final.FULFILLED),
      String(f.final.CONFIRMED),
      String(f.final.PENDING),
      String(f.retried),
      `${f.duplicates.sales}/${f.duplicates.inventory}`,
      String(f.kills.length),
      `${ok}/${total}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}
