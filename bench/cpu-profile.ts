/**
 * What share of a process's CPU went to some code, from V8's sampling profiler (`node --cpu-prof`,
 * one .cpuprofile per process at exit): the samples whose own frame (self time) is in that code.
 * Also the CPU seconds of a live process, from /proc.
 *
 * A share of samples is not thrown about by the machine's noise as a throughput ratio is: the
 * tracing-off cost is measured this way (bench/e2e.ts with --tracing=zipkin).
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

export interface ProfileShare {
  file: string;
  samples: number;
  matching: number;
  /** The functions matched, by samples, most first (e.g. `withSpan src/platform/tracing.ts`). */
  top: Array<[string, number]>;
}

/** Per .cpuprofile in `dir`: samples in all, and those whose frame's URL `matches`. */
export async function profileShares(
  dir: string,
  matches: (url: string) => boolean,
): Promise<ProfileShare[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  return Promise.all(
    files.map(async (file) => {
      const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const perFunction = new Map<string, number>();
      let matching = 0;
      for (const id of profile.samples) {
        const node = byId.get(id);
        if (node === undefined || !matches(node.callFrame.url)) continue;
        matching++;
        const name = `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}`;
        perFunction.set(name, (perFunction.get(name) ?? 0) + 1);
      }
      const top = [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, 5);
      return { file, samples: profile.samples.length, matching, top };
    }),
  );
}

function shortUrl(url: string): string {
  const at = Math.max(url.lastIndexOf('/src/'), url.lastIndexOf('/node_modules/'));
  return at < 0 ? url : url.slice(at + 1);
}

/** utime + stime of a live process, from /proc (Linux, as the bench machines). */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), counted after the command: 12 and 13 here; in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
