/**
 * `npm run cli -- inventory rebuild [--tenant t] [--verify-only]`: the products read model
 * compared with (and, without --verify-only, rebuilt from) the event store, online: the service
 * may keep writing (src/inventory/rebuild.ts says how). Reaches the database as Inventory does:
 * INVENTORY_DATABASE_URL, else the PGlite folder DATA_DIR/inventory/pglite (which only one
 * process may open: stop the service first there).
 */
import { inventoryService, inventorySettings, rebuildProducts } from '../inventory/index.ts';
import type { ProductDifference } from '../inventory/index.ts';
import { openServiceDatabase } from '../messaging/index.ts';
import { tenantIdSchema } from '../contract/index.ts';
import { loadServiceConfig } from '../platform/index.ts';
import type { Output } from './dlq.ts';
import { parseCommand } from './args.ts';
import { readModelDiffersError, usageError } from './errors.ts';

export const INVENTORY_USAGE = `Usage: npm run cli -- inventory rebuild [--tenant <id>] [--verify-only]

Folds every product stream of the event store (events) with the product's evolve and compares
the result with its row of the products read model; a row that differs is rewritten, a missing
one inserted, one without events deleted. One product at a time, its row locked meanwhile, so
the service keeps running: writes of that product wait a moment, none is lost.

Options:
  --tenant <id>     only this tenant's products
  --verify-only     compare and report, change nothing (exit 1 with ERP_CLI_READ_MODEL_DIFFERS
                    when a product differs)
  -h, --help        this text

Database: INVENTORY_DATABASE_URL, else PGlite in DATA_DIR/inventory/pglite.
Progress and differences go to stderr, the summary to stdout.`;

const PROGRESS_EVERY_MS = 1000;

export async function inventoryCommand(
  argv: string[],
  output: Output,
  env: Record<string, string | undefined> | undefined,
): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      tenant: { type: 'string' },
      'verify-only': { type: 'boolean' },
    },
    INVENTORY_USAGE,
    (line) => output.out(line),
  );
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  if (positionals[0] !== 'rebuild' || positionals.length > 1) {
    throw usageError(
      `inventory needs "rebuild"${positionals.length === 0 ? '' : `, got "${positionals.join(' ')}"`}`,
    );
  }
  if (values.tenant !== undefined && !tenantIdSchema.safeParse(values.tenant).success) {
    throw usageError(`--tenant "${values.tenant}" is not a tenant id`);
  }
  const verifyOnly = values['verify-only'] === true;
  const { config, settings } = loadServiceConfig(inventorySettings, env ?? process.env);
  const database = await openServiceDatabase(inventoryService, settings, config);
  try {
    let lastProgress = Date.now();
    const summary = await rebuildProducts(database, {
      verifyOnly,
      ...(values.tenant === undefined ? {} : { tenant: values.tenant }),
      onProgress(checked, total) {
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        output.err(`rebuild: ${checked}/${total} products checked`);
      },
      onDifference: (d) => output.err(describeDifference(d, verifyOnly)),
    });
    output.out(
      `products checked: ${summary.checked}, differences: ${summary.differences}, fixed: ${summary.fixed}${verifyOnly ? ' (--verify-only)' : ''}`,
    );
    if (verifyOnly && summary.differences > 0) throw readModelDiffersError(summary.differences);
    return 0;
  } finally {
    await database.close();
  }
}

function describeDifference(d: ProductDifference, verifyOnly: boolean): string {
  const what =
    d.kind === 'fields'
      ? Object.entries(d.fields)
          .map(
            ([field, [row, events]]) =>
              `${field} ${JSON.stringify(row)} → ${JSON.stringify(events)}`,
          )
          .join(', ')
      : d.kind;
  return `${verifyOnly ? 'differs' : 'fixed'}: ${d.tenantId}/${d.productId}: ${what}`;
}
