import { collectDefaultMetrics, Registry } from 'prom-client';

/** A registry per service instance, so that tests can build several apps in one process. */
export function createMetricsRegistry(service: string, withDefaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return registry;
}
