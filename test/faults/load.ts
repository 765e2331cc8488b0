/**
 * A steady stream of stock adjustments over HTTP, recording what Inventory acknowledged. A
 * request that failed or timed out is "unknown": the final check looks it up in Inventory's
 * database by its correlation id (every event of one request carries it).
 */
import { randomUUID } from 'node:crypto';

export interface Product {
  tenant: string;
  id: string;
  /** `Bearer <token>` of the tenant. */
  authorization: string;
}

export type Outcome = 'acked' | 'rejected' | 'unknown';

export interface Adjustment {
  correlationId: string;
  tenant: string;
  productId: string;
  /** ms since the epoch when the request was sent. */
  sentAt: number;
  outcome: Outcome;
  status?: number;
  /** Event ids of a 201 response. */
  eventIds: string[];
  /** Error code of a 4xx/5xx body, or the network error. */
  error?: string;
}

export interface LoadOptions {
  /** Inventory's base URL, e.g. http://127.0.0.1:4123. */
  url: string;
  products: Product[];
  /** Requests started per second. Default: 50. */
  ratePerSecond?: number;
  /** A request without an answer by then is unknown. Default: 5000. */
  timeoutMs?: number;
  /** Requests in flight at most; a tick beyond it is dropped (and counted). Default: 64. */
  maxInFlight?: number;
}

export interface Load {
  /** Stops sending, waits for the requests in flight, returns every adjustment sent. */
  stop(): Promise<Adjustment[]>;
  counts(): Record<Outcome | 'inFlight' | 'dropped', number>;
}

export function startLoad(options: LoadOptions): Load {
  const rate = options.ratePerSecond ?? 50;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxInFlight = options.maxInFlight ?? 64;
  const adjustments: Adjustment[] = [];
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let ticks = 0;
  let dropped = 0;
  let next = 0;

  const one = async (product: Product): Promise<void> => {
    const adjustment: Adjustment = {
      correlationId: randomUUID(),
      tenant: product.tenant,
      productId: product.id,
      sentAt: Date.now(),
      outcome: 'unknown',
      eventIds: [],
    };
    adjustments.push(adjustment);
    try {
      const res = await fetch(`${options.url}/api/v1/products/${product.id}/stock-adjustments`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: product.authorization,
          'x-correlation-id': adjustment.correlationId,
        },
        body: JSON.stringify({ quantity_change: -1, reason: 'sale' }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      adjustment.status = res.status;
      const body = (await res.json().catch(() => null)) as {
        events?: Array<{ event_id: string }>;
        error?: { code?: string };
      } | null;
      if (res.status === 201 && Array.isArray(body?.events)) {
        adjustment.outcome = 'acked';
        adjustment.eventIds = body.events.map((e) => e.event_id);
      } else if (res.status >= 400 && res.status < 500) {
        adjustment.outcome = 'rejected';
        adjustment.error = body?.error?.code ?? `HTTP ${res.status}`;
      } else if (res.status === 503 && body?.error?.code === 'ERP_HTTP_DRAINING') {
        // Refused before any work started (the draining hook runs before the route).
        adjustment.outcome = 'rejected';
        adjustment.error = body.error.code;
      } else {
        adjustment.error = body?.error?.code ?? `HTTP ${res.status}`;
      }
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      adjustment.error = cause?.code ?? (err as Error).name;
    }
  };

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate) - ticks;
    for (let i = 0; i < due; i++) {
      ticks++;
      if (pending.size >= maxInFlight) {
        dropped++;
        continue;
      }
      const product = options.products[next++ % options.products.length]!;
      const p = one(product).finally(() => pending.delete(p));
      pending.add(p);
    }
  }, 10);

  return {
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
      return adjustments;
    },
    counts() {
      const c = { acked: 0, rejected: 0, unknown: 0, inFlight: pending.size, dropped };
      for (const a of adjustments) c[a.outcome]++;
      // Still-running requests are counted as unknown above; take them out.
      c.unknown -= pending.size;
      return c;
    },
  };
}
