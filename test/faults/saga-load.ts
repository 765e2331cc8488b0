/**
 * A steady stream of orders through Sales' HTTP API, with cancels and fulfilments, recording what
 * Sales answered. Each order follows a plan drawn from a seeded generator: some are cancelled at
 * once (while PENDING, before Inventory answered), the others are looked at with GET until they
 * leave PENDING, and a CONFIRMED one is fulfilled, cancelled or kept. A few ask for more than the
 * product ever had: Inventory must reject them, whatever else happens.
 *
 * Every POST carries an Idempotency-Key and is retried with it while Sales cannot answer
 * (connection refused or reset while it is down, 5xx, 429), so that a retry never places, cancels
 * or fulfils twice. A request still without an answer after `retryForMs` is "unknown": the final
 * check looks its key up in Sales' database (idempotency_keys is written with the effect).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OrderStatus } from '../../src/sales/db.ts';
import type { ServiceProcess } from './harness.ts';
import type { Product } from './load.ts';

export interface SagaProduct extends Product {
  /** Units on hand when it was created. */
  initial: number;
}

export type RequestOutcome = 'ok' | 'refused' | 'unknown' | 'inFlight';

/** One POST and its retries under one Idempotency-Key. */
export interface SagaRequest {
  key: string;
  outcome: RequestOutcome;
  attempts: number;
  /** Why each retried attempt failed: a network error code or `HTTP <status>`. */
  errors: string[];
  status?: number;
  /** Error code of a refusal (4xx). */
  code?: string;
}

export type ActionKind = 'cancel' | 'fulfil';

export interface SagaOrder {
  /** Sequence number in the run. */
  n: number;
  tenant: string;
  lines: { product_id: string; quantity: number }[];
  /** A line asks for more units than the product ever had: Inventory must reject the order. */
  oversized: boolean;
  /** What the plan does: cancel at once, or once CONFIRMED cancel, fulfil or keep it. */
  plan: 'cancel-pending' | 'cancel' | 'fulfil' | 'keep';
  /** How long after seeing it CONFIRMED the order is cancelled or fulfilled, ms. */
  thinkMs: number;
  place: SagaRequest;
  /** From the 201 (or its replay). */
  id?: string;
  /** Statuses seen by GET, in order. */
  seen: OrderStatus[];
  action?: { kind: ActionKind; request: SagaRequest };
}

export interface SagaLoadOptions {
  sales: ServiceProcess;
  products: SagaProduct[];
  /** Orders started per second. Default: 12. */
  ratePerSecond?: number;
  /** Seed of the plan generator. Default: 12 (the issue). */
  seed?: number;
  /** Longest a POST is retried before it is unknown. Default: 60000. */
  retryForMs?: number;
  /** Orders in progress at most; a tick beyond it is dropped (and counted). Default: 2000. */
  maxInProgress?: number;
}

export interface SagaLoadCounts {
  orders: number;
  placed: number;
  refused: number;
  unknown: number;
  inProgress: number;
  dropped: number;
  cancels: number;
  fulfils: number;
  /** Requests that needed more than one attempt. */
  retried: number;
  /** GETs that failed (Sales down); the order is looked at again later. */
  pollErrors: number;
}

export interface SagaLoad {
  /** Stops starting orders and looking at them; waits for the requests in flight (and retries). */
  stop(): Promise<SagaOrder[]>;
  counts(): SagaLoadCounts;
}

/** When to look at a PENDING order again, ms after it was placed (then gives up: it stays kept). */
const POLL_AT_MS = [800, 1_600, 3_200, 6_400, 12_800, 20_000, 25_000];
const ATTEMPT_TIMEOUT_MS = 5_000;

/** mulberry32: small, seeded, good enough to spread plans; the run is reproducible by seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function errorOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error).name;
}

export function startSagaLoad(options: SagaLoadOptions): SagaLoad {
  const { sales } = options;
  const rate = options.ratePerSecond ?? 12;
  const retryForMs = options.retryForMs ?? 60_000;
  const maxInProgress = options.maxInProgress ?? 2_000;
  const random = generator(options.seed ?? 12);
  const run = randomBytes(4).toString('hex');
  const byTenant = new Map<string, SagaProduct[]>();
  for (const p of options.products) {
    byTenant.set(p.tenant, [...(byTenant.get(p.tenant) ?? []), p]);
  }
  const tenants = [...byTenant.keys()];
  const orders: SagaOrder[] = [];
  const inProgress = new Set<Promise<void>>();
  const stopping = new AbortController();
  const started = performance.now();
  let ticks = 0;
  let dropped = 0;
  let pollErrors = 0;

  const newRequest = (key: string): SagaRequest => ({
    key,
    outcome: 'inFlight',
    attempts: 0,
    errors: [],
  });

  /** POSTs until Sales answers something other than "not now", or `retryForMs` passed. */
  async function post(
    path: string,
    tenant: string,
    request: SagaRequest,
    body: unknown,
  ): Promise<unknown> {
    const deadline = Date.now() + retryForMs;
    for (let wait = 200; ; wait = Math.min(2_000, wait * 2)) {
      request.attempts++;
      let failure: string;
      try {
        const res = await fetch(`${sales.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: await sales.authorization(tenant),
            'idempotency-key': request.key,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        });
        const json = (await res.json().catch(() => null)) as {
          error?: { code?: string };
        } | null;
        request.status = res.status;
        if (res.status >= 200 && res.status < 300) {
          request.outcome = 'ok';
          return json;
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          request.outcome = 'refused';
          request.code = json?.error?.code ?? `HTTP ${res.status}`;
          return undefined;
        }
        failure = `HTTP ${res.status}${json?.error?.code ? ` ${json.error.code}` : ''}`;
      } catch (err) {
        failure = errorOf(err);
      }
      request.errors.push(failure);
      if (Date.now() + wait > deadline) {
        request.outcome = 'unknown';
        return undefined;
      }
      await sleep(wait);
    }
  }

  /** The order's status, or undefined when Sales did not answer. */
  async function look(order: SagaOrder): Promise<OrderStatus | undefined> {
    try {
      const res = await fetch(`${sales.url}/api/v1/orders/${order.id}`, {
        headers: { authorization: await sales.authorization(order.tenant) },
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const status = ((await res.json()) as { status: OrderStatus }).status;
      order.seen.push(status);
      return status;
    } catch {
      pollErrors++;
      return undefined;
    }
  }

  async function act(order: SagaOrder, kind: ActionKind): Promise<void> {
    const request = newRequest(`${run}-${kind}-${order.n}`);
    order.action = { kind, request };
    await post(`/api/v1/orders/${order.id}/${kind}`, order.tenant, request, {});
  }

  async function life(order: SagaOrder): Promise<void> {
    const body = (await post('/api/v1/orders', order.tenant, order.place, {
      customer: `faults-${order.n}`,
      lines: order.lines,
    })) as { id?: string } | undefined;
    if (body?.id === undefined) return;
    order.id = body.id;
    if (order.plan === 'cancel-pending') return act(order, 'cancel');
    const placedAt = Date.now();
    for (const at of POLL_AT_MS) {
      const wait = placedAt + at - Date.now();
      if (wait > 0)
        await sleep(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) return;
      const status = await look(order);
      if (status === undefined || status === 'PENDING') continue;
      if (status === 'CONFIRMED' && order.plan !== 'keep') {
        // A customer takes a moment to decide: actions decided before a kill are sent after it.
        await sleep(order.thinkMs);
        await act(order, order.plan);
      }
      return;
    }
  }

  function plan(n: number): SagaOrder {
    const tenant = tenants[n % tenants.length]!;
    const products = [...byTenant.get(tenant)!];
    const lines: SagaOrder['lines'] = [];
    const count = 1 + Math.floor(random() * Math.min(3, products.length));
    for (let i = 0; i < count; i++) {
      const [p] = products.splice(Math.floor(random() * products.length), 1);
      lines.push({ product_id: p!.id, quantity: 1 + Math.floor(random() * 4) });
    }
    const oversized = random() < 0.04;
    if (oversized) {
      const p = options.products.find((x) => x.id === lines[0]!.product_id)!;
      lines[0]!.quantity = p.initial + 1;
    }
    const r = random();
    const planned: SagaOrder['plan'] = oversized
      ? 'keep'
      : r < 0.08
        ? 'cancel-pending'
        : r < 0.4
          ? 'fulfil'
          : r < 0.62
            ? 'cancel'
            : 'keep';
    return {
      n,
      tenant,
      lines,
      oversized,
      plan: planned,
      thinkMs: Math.floor(random() * 2_500),
      place: newRequest(`${run}-place-${n}`),
      seen: [],
    };
  }

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate) - ticks;
    for (let i = 0; i < due; i++) {
      const order = plan(ticks++);
      if (inProgress.size >= maxInProgress) {
        dropped++;
        continue;
      }
      orders.push(order);
      const p = life(order).finally(() => inProgress.delete(p));
      inProgress.add(p);
    }
  }, 10);

  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await Promise.allSettled([...inProgress]);
      return orders;
    },
    counts() {
      const requests = orders.flatMap((o) => [o.place, ...(o.action ? [o.action.request] : [])]);
      return {
        orders: orders.length,
        placed: orders.filter((o) => o.place.outcome === 'ok').length,
        refused: orders.filter((o) => o.place.outcome === 'refused').length,
        unknown: orders.filter((o) => o.place.outcome === 'unknown').length,
        inProgress: inProgress.size,
        dropped,
        cancels: orders.filter((o) => o.action?.kind === 'cancel').length,
        fulfils: orders.filter((o) => o.action?.kind === 'fulfil').length,
        retried: requests.filter((r) => r.attempts > 1).length,
        pollErrors,
      };
    },
  };
}
