/**
 * Just enough of the Prometheus text format (what prom-client writes) to read samples: name,
 * labels, value. Comments, timestamps and exemplars are ignored. A hand-written reader of ~40
 * lines instead of a dependency: the libraries that parse it pull in far more than the console
 * needs, and the format is line-based and stable.
 */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? '').matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    }
    const value =
      match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    if (!Number.isNaN(value) || match[3] === 'NaN')
      samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `where`. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  where: Readonly<Record<string, string>> = {},
): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Largest value of the samples named `name`; 0 when there is none. */
export function maxOf(samples: readonly Sample[], name: string): number {
  let max = 0;
  for (const s of samples) if (s.name === name && s.value > max) max = s.value;
  return max;
}
