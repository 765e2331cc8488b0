import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaErrorCodes, toKafkaError } from '../../../src/messaging/kafka/errors.ts';
import { createProducer } from '../../../src/messaging/kafka/producer.ts';
import { AppError } from '../../../src/platform/index.ts';
import { testBootstrap, uniqueName } from '../../support/kafka.ts';

test('an unreachable broker is a connection error: an outage, so retryable', async (t) => {
  // Port 1 on loopback refuses at once: a real refused connection, no broker needed.
  const producer = createProducer(
    { clientId: 'errors-test', bootstrapServers: ['127.0.0.1:1'], connectTimeoutMs: 1000 },
    { retries: 2, retryDelayMs: 10 },
  );
  t.after(() => producer.close());
  await assert.rejects(producer.send([{ topic: 't', key: 'k', value: Buffer.from('v') }]), {
    code: KafkaErrorCodes.CONNECTION,
    retryable: true,
    outage: true,
  });
});

test('using a closed client is a non-retryable closed error', async () => {
  const conn = { clientId: uniqueName('errors-test'), bootstrapServers: await testBootstrap() };
  const producer = createProducer(conn);
  await producer.close();
  await assert.rejects(producer.send([{ topic: 't', key: 'k', value: Buffer.from('v') }]), {
    code: KafkaErrorCodes.CLOSED,
    retryable: false,
    outage: false,
  });
});

test('AppErrors pass through; foreign errors become ERP_KAFKA_CLIENT with the cause kept', () => {
  const own = new AppError('ERP_X', 'mine', { retryable: true });
  assert.equal(toKafkaError(own), own);
  const foreign = new TypeError('boom');
  const mapped = toKafkaError(foreign);
  assert.equal(mapped.code, KafkaErrorCodes.CLIENT);
  assert.equal(mapped.retryable, false);
  assert.equal(mapped.outage, false);
  assert.equal(mapped.cause, foreign);
  assert.equal(toKafkaError('text').message, 'text');
});
