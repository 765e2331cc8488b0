/** Runs the CLI in this process with its output captured, as the CLI tests need it. */
import type { Output } from '../../src/cli/dlq.ts';
import { runCli } from '../../src/cli/main.ts';

export interface CapturedOutput extends Output {
  lines: { out: string[]; err: string[] };
}

export function captureOutput(): CapturedOutput {
  const lines = { out: [] as string[], err: [] as string[] };
  return { lines, out: (l) => void lines.out.push(l), err: (l) => void lines.err.push(l) };
}

export async function runCapturing(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number; out: string[]; err: string[] }> {
  const output = captureOutput();
  const status = await runCli(args, output, env);
  return { status, ...output.lines };
}
