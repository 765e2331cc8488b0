import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { USAGE } from '../../src/cli/main.ts';
import { deadLetter } from '../../src/messaging/dead-letter.ts';
import { createProducer, ensureTopics } from '../../src/messaging/kafka/index.ts';
import { AppError } from '../../src/platform/index.ts';
import { testBootstrap, uniqueName } from '../support/kafka.ts';
import { runCapturing } from './run.ts';

let env: Record<string, string>;

before(async () => {
  env = { KAFKA_BOOTSTRAP_SERVERS: (await testBootstrap()).join(',') };
});

const run = (args: string[], vars = env) => runCapturing(args, vars);

test('--help prints the usage and exits 0; no arguments prints it and exits 2', async () => {
  assert.deepEqual(await run(['--help']), { status: 0, out: [USAGE], err: [] });
  assert.deepEqual(await run(['dlq', 'list', '-h']), { status: 0, out: [USAGE], err: [] });
  assert.equal((await run([])).status, 2);
});

test('bad arguments exit 2 with ERP_CLI_USAGE naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['dlq', 'list', '--bogus'], /--bogus/],
    [['dlq', 'list', '--limit'], /--limit/],
    [['dlq', 'list', '--limit', '0'], /--limit must be a positive integer/],
    [['dlq', 'list', '--since', 'yesterday'], /--since must be an ISO-8601 time/],
    [['dlq', 'list', '--until', '2024-13-45T00:00:00Z'], /--until must be an ISO-8601 time/],
    [['dlq', 'list', '--dry-run'], /--dry-run does not apply to dlq list/],
    [['dlq', 'show'], /dlq show needs <partition>:<offset>/],
    [['dlq', 'show', '0-12'], /got "0-12"/],
    [['dlq', 'show', '0:1', '--code', 'X'], /--code does not apply to dlq show/],
    [['dlq', 'redrive', '--json'], /--json does not apply to dlq redrive/],
    [['dlq', 'list', 'extra'], /unexpected argument "extra"/],
    [['dlq', 'purge'], /dlq needs one of list, show, redrive, got "purge"/],
    [['dlq'], /dlq needs one of list, show, redrive/],
    [['topics'], /unknown command "topics"/],
  ];
  for (const [args, message] of cases) {
    const { status, out, err } = await run(args);
    assert.equal(status, 2, args.join(' '));
    assert.deepEqual(out, [], args.join(' '));
    assert.match(err[0]!, /^error ERP_CLI_USAGE: /, args.join(' '));
    assert.match(err[0]!, message, args.join(' '));
  }
});

test('a bad Kafka setting exits 2 with ERP_CFG_INVALID; a failure with a code exits 1', async () => {
  const config = await run(['dlq', 'list'], { ...env, KAFKA_SECURITY_PROTOCOL: 'CARRIER_PIGEON' });
  assert.equal(config.status, 2);
  assert.match(config.err[0]!, /^error ERP_CFG_INVALID: .*KAFKA_SECURITY_PROTOCOL/);

  const missing = await run(['dlq', 'list', '--topic', uniqueName('no-such-topic')]);
  assert.equal(missing.status, 1);
  assert.match(missing.err.at(-1)!, /^error ERP_KAFKA_UNKNOWN_TOPIC: /);
});

test('dlq list and show through the command line, against the configured cluster', async (t) => {
  const source = uniqueName('inventory-events');
  const dlq = `${source}.dlq`;
  await ensureTopics(
    { clientId: 'cli-main-test', bootstrapServers: env.KAFKA_BOOTSTRAP_SERVERS!.split(',') },
    [{ name: dlq, partitions: 1, replicationFactor: 1 }],
  );
  const producer = createProducer({
    clientId: 'cli-main-test',
    bootstrapServers: env.KAFKA_BOOTSTRAP_SERVERS!.split(','),
  });
  t.after(() => producer.close());
  const record = {
    topic: source,
    partition: 0,
    offset: 7n,
    key: Buffer.from('PRD-1'),
    value: Buffer.from('{"oops"'),
    headers: { tenant_id: 'tenant-9' },
    timestamp: Date.now(),
  };
  await deadLetter(producer, record, new AppError('ERP_TEST_BROKEN', 'broken'), { groupId: 'g' });

  // The default topic is <KAFKA_INVENTORY_TOPIC>.dlq.
  const list = await run(['dlq', 'list', '--tenant', 'tenant-9'], {
    ...env,
    KAFKA_INVENTORY_TOPIC: source,
  });
  assert.equal(list.status, 0, list.err.join('\n'));
  assert.equal(list.out.length, 1);
  assert.match(
    list.out[0]!,
    new RegExp(`^0:0  \\S+  ERP_TEST_BROKEN  -  tenant-9  ${source}/0@7  broken$`),
  );

  const show = await run(['dlq', 'show', '0:0', '--topic', dlq]);
  assert.equal(show.status, 0, show.err.join('\n'));
  assert.ok(show.out.includes('  dlq.error.code: ERP_TEST_BROKEN'));
  assert.equal(show.out.at(-1), '{"oops"');

  const none = await run(['dlq', 'show', '0:1', '--topic', dlq]);
  assert.equal(none.status, 1);
  assert.match(none.err[0]!, /^error ERP_CLI_NOT_FOUND: /);
});

test('npm run cli: the process exits with the status (2 on bad usage)', () => {
  const entry = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const result = spawnSync(process.execPath, [entry, 'dlq', 'list', '--bogus'], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^error ERP_CLI_USAGE: /);
  const help = spawnSync(process.execPath, [entry, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.equal(help.stdout, `${USAGE}\n`);
});
