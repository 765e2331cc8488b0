import { AppError } from '../../src/platform/errors.ts';

/** Progress lines carry the script's name, since tests and npm start interleave several. */
export const logger =
  (name: string) =>
  (line: string): void =>
    console.log(`[${name}] ${line}`);

/** Coded errors print as `error <code>: <message>` (docs/errors.md); anything else in full. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof AppError) console.error(`[${name}] error ${err.code}: ${err.message}`);
    else console.error(`[${name}] error:`, err);
    process.exitCode = 1;
  });
}
