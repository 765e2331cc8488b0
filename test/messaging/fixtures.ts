import type { OutboxTable } from '../../src/messaging/outbox/table.ts';
import type { Cleanup } from '../support/database.ts';

/**
 * A database with one table of the outbox shape named `outbox` (Sales' outbox), typed by the
 * production definition (src/messaging/outbox/table.ts): a column the code reads or writes that
 * the table lacks fails the type check of the tests too.
 */
export interface OutboxDB {
  outbox: OutboxTable;
}

/**
 * A cleanup stack over `t`: what is registered on it runs in reverse order, after the test. node:test
 * runs `t.after()` hooks in the order they were added, so a relay or consumer registered after its
 * database (testDatabase registers the close) would otherwise be stopped after the database closed.
 */
export function cleanupStack(t: Cleanup): Cleanup {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const fn of stack.reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return { after: (fn) => void stack.push(fn) };
}
