/**
 * The shipped Prometheus configuration of ops/prometheus is valid and its alerting rules pass
 * their unit tests (rules.test.yml: each rule fires, and does not on its nearest harmless case):
 * what `npm run prometheus:check` and .ci/run run, here as part of npm test too. promtool comes
 * with Debian's prometheus package, installed by the script when missing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPrometheusConfig } from '../../scripts/prometheus.ts';

test('promtool: ops/prometheus config, rules and rule tests pass', async () => {
  const report = await checkPrometheusConfig();
  assert.match(report, /prometheus\.yml is valid prometheus config file syntax/);
  assert.match(report, /SUCCESS: 4 rules found/);
  assert.match(report, /Unit Testing: .*rules\.test\.yml\n\s+SUCCESS/);
});
