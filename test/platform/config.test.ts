import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/platform/config.ts';

test("the design document's variables and defaults", () => {
  const c = loadConfig({});
  assert.deepEqual(c.kafka.bootstrapServers, ['localhost:9092']);
  assert.equal(c.kafka.consumerGroup, 'sales-service-group');
  assert.equal(c.kafka.inventoryTopic, 'inventory-events');
  assert.equal(c.kafka.salesTopic, 'sales-events');
  assert.equal(c.kafka.autoOffsetReset, 'earliest');
  assert.equal(c.kafka.enableAutoCommit, true);
  assert.equal(c.inventory.port, 3001);
  assert.equal(c.sales.port, 3002);
  assert.equal(c.kafka.topicPartitions, 3);
  assert.equal(c.databasePoolSize, 20);
  assert.equal(c.databasePreparedStatements, true);
});

test('values are parsed the way the document writes them', () => {
  const c = loadConfig({
    KAFKA_BOOTSTRAP_SERVERS: 'a:9092, b:9092',
    KAFKA_ENABLE_AUTO_COMMIT: 'False',
    KAFKA_AUTO_OFFSET_RESET: 'LATEST',
    INVENTORY_DATABASE_URL: 'postgres://x@h/db',
    DATABASE_PREPARED_STATEMENTS: 'false',
  });
  assert.equal(c.databasePreparedStatements, false);
  assert.deepEqual(c.kafka.bootstrapServers, ['a:9092', 'b:9092']);
  assert.equal(c.kafka.enableAutoCommit, false);
  assert.equal(c.kafka.autoOffsetReset, 'latest');
  assert.equal(c.inventory.databaseUrl, 'postgres://x@h/db');
  assert.equal(c.sales.databaseUrl, undefined);
});

test('a bad value is refused with ERP_CFG_INVALID naming every bad variable', () => {
  assert.throws(
    () =>
      loadConfig({
        KAFKA_AUTO_OFFSET_RESET: 'sometimes',
        SALES_PORT: '99999',
        KAFKA_ENABLE_AUTO_COMMIT: 'maybe',
      }),
    (err: { code: string; message: string; context: { variables: string[] } }) => {
      assert.equal(err.code, 'ERP_CFG_INVALID');
      assert.deepEqual(err.context.variables.sort(), [
        'KAFKA_AUTO_OFFSET_RESET',
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
