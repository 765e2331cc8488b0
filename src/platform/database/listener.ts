/**
 * LISTEN on a connection of its own that comes back when it is lost (server restart, failover,
 * pg_terminate_backend). Notifications sent while it was away are gone, so after reconnecting it
 * calls `onNotify('')` once: a listener that wakes on a channel then looks for itself instead of
 * waiting for its next poll.
 */
import type pg from 'pg';
import { createRetryPolicy, delayFor } from '../retry-policy.ts';
import type { RetryPolicy } from '../retry-policy.ts';

export interface Listener {
  stop(): Promise<void>;
}

/** Reconnection waits: from 100 ms (a restart is often quick) doubling to 10 s, ±50 %. */
export const LISTEN_RETRY_POLICY: RetryPolicy = createRetryPolicy({
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  jitter: 0.5,
});

/** Connects and LISTENs once (failing like `connect` fails), then keeps it up until `stop()`. */
export async function keepListening(
  connect: () => Promise<pg.Client>,
  channel: string,
  onNotify: (payload: string) => void,
  policy: RetryPolicy = LISTEN_RETRY_POLICY,
): Promise<Listener> {
  let client: pg.Client | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const open = async (): Promise<void> => {
    const next = await connect();
    next.on('error', () => {});
    next.on('notification', (msg) => {
      if (msg.channel === channel) onNotify(msg.payload ?? '');
    });
    try {
      await next.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (err) {
      await next.end().catch(() => {});
      throw err;
    }
    // Registered only now: a client that never listened is not ours to reopen.
    next.once('end', () => {
      if (client === next) client = null;
      if (!stopped) reopen(1);
    });
    client = next;
    if (stopped) await next.end().catch(() => {});
  };

  const reopen = (attempt: number): void => {
    timer = setTimeout(
      () => {
        open().then(
          () => {
            if (!stopped) onNotify('');
          },
          () => {
            if (!stopped) reopen(attempt + 1);
          },
        );
      },
      delayFor(policy, attempt),
    );
    timer.unref();
  };

  await open();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
