/**
 * `--tracing=zipkin`: each section that can measures its work twice, alternating rep by rep, with
 * tracing off (the default) and with tracing on, exporting every span to a real Zipkin (started by
 * scripts/zipkin.ts), and prints the ratio. Off is what every deployment without OTEL_* pays.
 */
import { ensureZipkin, zipkinPid } from '../scripts/zipkin.ts';
import { cpuSecondsOf } from './cpu-profile.ts';
import { fmt, median, say } from './support.ts';

export type TracingVariant = 'off' | 'zipkin';

export function parseTracing(arg: string | undefined): readonly TracingVariant[] | undefined {
  if (arg === undefined || arg === 'off') return ['off'];
  if (arg === 'zipkin') return ['off', 'zipkin'];
  return undefined;
}

export function tracingLabel(variant: TracingVariant): string {
  return variant === 'off' ? 'tracing off' : 'tracing on (Zipkin exporter)';
}

/** Zipkin's span endpoint, Zipkin started if needed. */
export async function zipkinEndpoint(): Promise<string> {
  const zipkin = await ensureZipkin();
  return `${zipkin.url}/api/v2/spans`;
}

/**
 * The CPU seconds Zipkin (the trace backend, a JVM sharing this machine's cores) has used so far;
 * undefined with tracing off. Its share is what co-locating the backend costs, not the services.
 */
export async function zipkinCpuSeconds(variant: TracingVariant): Promise<number | undefined> {
  if (variant === 'off') return undefined;
  const pid = await zipkinPid();
  return pid === null ? undefined : cpuSecondsOf(pid);
}

/** The environment of a service process for `variant` (explicit, whatever the bench's own is). */
export async function tracingEnv(variant: TracingVariant): Promise<Record<string, string>> {
  if (variant === 'off') return { OTEL_TRACES_EXPORTER: 'none' };
  return {
    OTEL_TRACES_EXPORTER: 'zipkin',
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: await zipkinEndpoint(),
    // Every trace recorded unless the bench's environment says otherwise (e.g. always_off, to
    // tell the instrumentation's cost from the spans' recording and export).
    OTEL_TRACES_SAMPLER: process.env['OTEL_TRACES_SAMPLER'] ?? 'parentbased_always_on',
  };
}

/**
 * "tracing on / off = 0.93" when both variants ran; `higherIsBetter` false for costs (CPU per
 * event). `variant` is the one compared with 'off' (default 'zipkin'), `name` what it is called.
 */
export function sayTracingRatio(
  what: string,
  values: ReadonlyMap<string, number[]>,
  higherIsBetter = true,
  variant = 'zipkin',
  name = 'tracing on',
): void {
  const off = values.get('off');
  const on = values.get(variant);
  if (off === undefined || on === undefined || off.length === 0 || on.length === 0) return;
  const ratio = median(on) / median(off);
  const cost = higherIsBetter ? 1 - ratio : ratio - 1;
  say(
    `${what}: ${name} ${fmt(median(on))} / off ${fmt(median(off))} = ${ratio.toFixed(3)} (cost ${(cost * 100).toFixed(1)} %)`,
  );
}
