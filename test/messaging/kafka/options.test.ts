import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toLibraryConnectionOptions } from '../../../src/messaging/kafka/options.ts';

const base = { clientId: 'svc', bootstrapServers: ['kafka-1:9093', '[::1]:9092'] };

test('plaintext connection: only client id and brokers', () => {
  assert.deepEqual(toLibraryConnectionOptions(base), {
    clientId: 'svc',
    bootstrapBrokers: ['kafka-1:9093', '[::1]:9092'],
  });
});

test('SASL/SCRAM over TLS is passed through, certificate checks on by default', () => {
  const options = toLibraryConnectionOptions({
    ...base,
    connectTimeoutMs: 2500,
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 's3cret' },
    tls: { ca: '-----BEGIN CERTIFICATE-----\n...' },
  });
  assert.deepEqual(options, {
    clientId: 'svc',
    bootstrapBrokers: ['kafka-1:9093', '[::1]:9092'],
    connectTimeout: 2500,
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 's3cret' },
    tls: { rejectUnauthorized: true, ca: '-----BEGIN CERTIFICATE-----\n...' },
  });
});

test('mutual TLS needs cert and key together', () => {
  assert.throws(() => toLibraryConnectionOptions({ ...base, tls: { cert: 'c' } }), {
    code: 'ERP_KAFKA_CONFIG',
    context: { option: 'tls' },
  });
  assert.deepEqual(
    toLibraryConnectionOptions({ ...base, tls: { cert: 'c', key: 'k', rejectUnauthorized: false } })
      .tls,
    { rejectUnauthorized: false, cert: 'c', key: 'k' },
  );
});

test('bad values name the option', () => {
  const cases: Array<[Parameters<typeof toLibraryConnectionOptions>[0], string]> = [
    [{ ...base, clientId: ' ' }, 'clientId'],
    [{ ...base, bootstrapServers: [] }, 'bootstrapServers'],
    [{ ...base, bootstrapServers: ['ok:1', 'no-port'] }, 'bootstrapServers[1]'],
    [{ ...base, connectTimeoutMs: 0 }, 'connectTimeoutMs'],
    [
      { ...base, sasl: { mechanism: 'GSSAPI' as 'PLAIN', username: 'u', password: 'p' } },
      'sasl.mechanism',
    ],
    [{ ...base, sasl: { mechanism: 'PLAIN', username: 'u', password: '' } }, 'sasl.password'],
  ];
  for (const [conn, option] of cases) {
    assert.throws(() => toLibraryConnectionOptions(conn), {
      code: 'ERP_KAFKA_CONFIG',
      retryable: false,
      context: { option },
    });
  }
});
