import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inventorySettings } from '../../src/inventory/index.ts';
import { defineSettings, env, loadConfig, loadServiceConfig } from '../../src/platform/index.ts';
import { salesSettings } from '../../src/sales/index.ts';

test("the design document's variables and defaults", () => {
  const c = loadConfig({});
  assert.deepEqual(c.kafka.bootstrapServers, ['localhost:9092']);
  assert.equal(c.kafka.consumerGroup, 'sales-service-group');
  assert.equal(c.kafka.inventoryTopic, 'inventory-events');
  assert.equal(c.kafka.salesTopic, 'sales-events');
  assert.equal(c.kafka.autoOffsetReset, 'earliest');
  assert.equal(c.kafka.enableAutoCommit, true);
  assert.equal(loadServiceConfig(inventorySettings, {}).settings.port, 3001);
  assert.equal(loadServiceConfig(salesSettings, {}).settings.port, 3002);
  assert.equal(c.kafka.topicPartitions, 3);
  assert.equal(c.databasePoolSize, 20);
  assert.equal(c.databasePreparedStatements, true);
  assert.equal(c.kafka.consumerOrdering, 'key');
});

test('values are parsed the way the document writes them', () => {
  const environment = {
    KAFKA_BOOTSTRAP_SERVERS: 'a:9092, b:9092',
    KAFKA_ENABLE_AUTO_COMMIT: 'False',
    KAFKA_AUTO_OFFSET_RESET: 'LATEST',
    INVENTORY_DATABASE_URL: 'postgres://x@h/db',
    DATABASE_PREPARED_STATEMENTS: 'false',
    KAFKA_CONSUMER_ORDERING: ' Partition ',
  };
  const c = loadConfig(environment);
  assert.equal(c.databasePreparedStatements, false);
  assert.deepEqual(c.kafka.bootstrapServers, ['a:9092', 'b:9092']);
  assert.equal(c.kafka.enableAutoCommit, false);
  assert.equal(c.kafka.autoOffsetReset, 'latest');
  assert.equal(c.kafka.consumerOrdering, 'partition');
  assert.equal(
    loadServiceConfig(inventorySettings, environment).settings.databaseUrl,
    'postgres://x@h/db',
  );
  assert.equal(loadServiceConfig(salesSettings, environment).settings.databaseUrl, undefined);
});

test('a bad value is refused with ERP_CFG_INVALID naming every bad variable', () => {
  assert.throws(
    () =>
      loadServiceConfig(salesSettings, {
        KAFKA_AUTO_OFFSET_RESET: 'sometimes',
        SALES_PORT: '99999',
        KAFKA_ENABLE_AUTO_COMMIT: 'maybe',
        KAFKA_CONSUMER_ORDERING: 'random',
      }),
    (err: { code: string; message: string; context: { variables: string[] } }) => {
      assert.equal(err.code, 'ERP_CFG_INVALID');
      assert.deepEqual(err.context.variables.sort(), [
        'KAFKA_AUTO_OFFSET_RESET',
        'KAFKA_CONSUMER_ORDERING',
        'KAFKA_ENABLE_AUTO_COMMIT',
        'SALES_PORT',
      ]);
      assert.match(err.message, /KAFKA_AUTO_OFFSET_RESET/);
      return true;
    },
  );
});

test('SASL needs a username and password; SASL_SSL sets both SASL and TLS', () => {
  assert.throws(() => loadConfig({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }), /KAFKA_SASL_USERNAME/);
  const c = loadConfig({
    KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
    KAFKA_SASL_USERNAME: 'alice',
    KAFKA_SASL_PASSWORD: 'secret',
    KAFKA_SSL_CA_FILE: '/tmp/ca.pem',
  });
  assert.deepEqual(c.kafka.sasl, {
    mechanism: 'SCRAM-SHA-256',
    username: 'alice',
    password: 'secret',
  });
  assert.deepEqual(c.kafka.tls, { caFile: '/tmp/ca.pem' });
  assert.equal(loadConfig({}).kafka.sasl, undefined);
});

test("a service's own section is parsed with the shared settings, and only its variables are read", () => {
  const section = defineSettings({
    variables: { COUNTER_PORT: env.port.default(3009), COUNTER_LABEL: env.optionalText },
    settings: (v) => ({ port: v.COUNTER_PORT, label: v.COUNTER_LABEL ?? 'none' }),
  });
  const { config, settings } = loadServiceConfig(section, {
    COUNTER_LABEL: 'x',
    KAFKA_CLIENT_ID: 'c',
    SALES_PORT: 'not a port', // another service's variable: not this one's business
  });
  assert.deepEqual(settings, { port: 3009, label: 'x' });
  assert.equal(config.kafka.clientId, 'c');
  assert.throws(
    () => loadServiceConfig(section, { COUNTER_PORT: '-1', LOG_LEVEL: 'loud' }),
    (err: { code: string; context: { variables: string[] } }) =>
      err.code === 'ERP_CFG_INVALID' &&
      err.context.variables.sort().join() === 'COUNTER_PORT,LOG_LEVEL',
  );
});

test('HTTP timeouts: defaults, values, and headers never allowed longer than the whole request', () => {
  assert.deepEqual(loadConfig({}).http, {
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
  });
  assert.deepEqual(
    loadConfig({
      HTTP_REQUEST_TIMEOUT_MS: '500',
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '100',
    }).http,
    { requestTimeoutMs: 500, headersTimeoutMs: 500, keepAliveTimeoutMs: 100 },
  );
  assert.throws(
    () => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0', HTTP_KEEP_ALIVE_TIMEOUT_MS: 'soon' }),
    (err: { code: string; context: { variables: string[] } }) =>
      err.code === 'ERP_CFG_INVALID' &&
      err.context.variables.sort().join() === 'HTTP_KEEP_ALIVE_TIMEOUT_MS,HTTP_REQUEST_TIMEOUT_MS',
  );
  assert.equal(
    loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000' }).http.headersTimeoutMs,
    5_000,
    'unset, the headers timeout follows a shorter request timeout',
  );
  assert.throws(
    () => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }),
    (err: { code: string; context: { variables: string[] } }) =>
      err.code === 'ERP_CFG_INVALID' &&
      err.context.variables.sort().join() === 'HTTP_HEADERS_TIMEOUT_MS,HTTP_REQUEST_TIMEOUT_MS',
  );
});

test('authentication: the development issuer by default, OIDC with an issuer URL, none only when asked', () => {
  const dev = loadConfig({}).auth;
  assert.deepEqual(dev, {
    mode: 'dev',
    audience: 'erp-events',
    tenantClaim: 'tenant_id',
    clockSkewSeconds: 30,
    openMetrics: false,
  });
  const oidc = loadConfig({
    AUTH_ISSUER_URL: 'https://id.example.com/realms/erp',
    AUTH_AUDIENCE: 'erp',
    AUTH_TENANT_CLAIM: 'org',
    AUTH_CLOCK_SKEW_SECONDS: '0',
    AUTH_OPEN_METRICS: 'true',
  }).auth;
  assert.deepEqual(oidc, {
    mode: 'oidc',
    issuerUrl: 'https://id.example.com/realms/erp',
    audience: 'erp',
    tenantClaim: 'org',
    clockSkewSeconds: 0,
    openMetrics: true,
  });
  assert.equal(loadConfig({ AUTH_MODE: 'NONE' }).auth.mode, 'none');
  assert.deepEqual(loadConfig({}).rateLimit, { max: 6000, windowMs: 60_000 });
  assert.deepEqual(loadConfig({ RATE_LIMIT_MAX: '0', RATE_LIMIT_WINDOW_MS: '1000' }).rateLimit, {
    max: 0,
    windowMs: 1000,
  });

  const refused: [Record<string, string>, string[]][] = [
    [{ AUTH_MODE: 'oidc' }, ['AUTH_ISSUER_URL']],
    [
      { AUTH_MODE: 'none', AUTH_ISSUER_URL: 'https://id.example.com' },
      ['AUTH_MODE', 'AUTH_ISSUER_URL'],
    ],
    [{ AUTH_ISSUER_URL: 'ftp://id.example.com' }, ['AUTH_ISSUER_URL']],
    [{ AUTH_ISSUER_URL: 'not a url' }, ['AUTH_ISSUER_URL']],
    [{ AUTH_MODE: 'basic' }, ['AUTH_MODE']],
    [{ AUTH_CLOCK_SKEW_SECONDS: '-1' }, ['AUTH_CLOCK_SKEW_SECONDS']],
    [{ RATE_LIMIT_MAX: '-5' }, ['RATE_LIMIT_MAX']],
    [{ RATE_LIMIT_WINDOW_MS: '0' }, ['RATE_LIMIT_WINDOW_MS']],
  ];
  for (const [vars, variables] of refused) {
    assert.throws(
      () => loadConfig(vars),
      (err: { code?: string; context?: { variables?: string[] } }) => {
        assert.equal(err.code, 'ERP_CFG_INVALID');
        assert.deepEqual(err.context?.variables, variables, JSON.stringify(vars));
        return true;
      },
    );
  }
});

test('tracing: off unless OTEL_TRACES_EXPORTER names an exporter; none and OTEL_SDK_DISABLED win; typos refused', () => {
  assert.deepEqual(loadConfig({}).tracing, { exporters: [] });
  assert.deepEqual(loadConfig({ OTEL_TRACES_EXPORTER: 'Zipkin' }).tracing, {
    exporters: ['zipkin'],
  });
  assert.deepEqual(
    loadConfig({ OTEL_TRACES_EXPORTER: 'otlp, console,otlp', OTEL_SERVICE_NAME: 'inv-1' }).tracing,
    { exporters: ['otlp', 'console'], serviceName: 'inv-1' },
  );
  assert.deepEqual(loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin,none' }).tracing.exporters, []);
  assert.deepEqual(
    loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_SDK_DISABLED: 'true' }).tracing.exporters,
    [],
  );
  for (const [variable, value] of [
    ['OTEL_TRACES_EXPORTER', 'jaeger'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_SDK_DISABLED', 'maybe'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (err: { code?: string; context?: { variables?: string[] } }) =>
        err.code === 'ERP_CFG_INVALID' && (err.context?.variables ?? []).includes(variable),
      `${variable}=${value}`,
    );
  }
});

test('SCHEMA_REGISTRY_URL: unset (or empty) means no registry; an http(s) URL is kept; anything else refused', () => {
  assert.equal(loadConfig({}).schemaRegistryUrl, undefined);
  assert.equal(loadConfig({ SCHEMA_REGISTRY_URL: ' ' }).schemaRegistryUrl, undefined);
  assert.equal(
    loadConfig({ SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8280/apis/ccompat/v7' }).schemaRegistryUrl,
    'http://127.0.0.1:8280/apis/ccompat/v7',
  );
  for (const bad of ['ftp://registry.example.com', 'registry:8280']) {
    assert.throws(
      () => loadConfig({ SCHEMA_REGISTRY_URL: bad }),
      (err: { code?: string; context?: { variables?: string[] } }) =>
        err.code === 'ERP_CFG_INVALID' &&
        JSON.stringify(err.context?.variables) === '["SCHEMA_REGISTRY_URL"]',
      bad,
    );
  }
});
