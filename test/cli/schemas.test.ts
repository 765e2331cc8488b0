/**
 * `schemas register | check | diff` against a real Apicurio Registry (scripts/registry.ts, started
 * once and shared). Every test registers under topics of its own, so its subjects are its own. The
 * changed contracts are the generated JSON Schemas transformed here: the contract is not edited.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ensureRegistry } from '../../scripts/registry.ts';
import type { Output } from '../../src/cli/dlq.ts';
import { runCli } from '../../src/cli/main.ts';
import { schemasCheck, schemasDiff, schemasRegister } from '../../src/cli/schemas.ts';
import { createSchemaRegistryClient, schemaSubjects } from '../../src/messaging/index.ts';
import type { SchemaRegistryClient, SchemaSubject } from '../../src/messaging/index.ts';
import { loadConfig } from '../../src/platform/index.ts';
import { uniqueName } from '../support/kafka.ts';
import { removeRequired, withPayload } from '../support/schemas.ts';
import type { PayloadSchema } from '../support/schemas.ts';

let url: string;
let client: SchemaRegistryClient;

before(async () => {
  url = (await ensureRegistry()).url;
  client = createSchemaRegistryClient({ url });
});

/** Environment of a registry test: its own topics, hence its own subjects. */
function uniqueEnv(): Record<string, string> {
  return {
    SCHEMA_REGISTRY_URL: url,
    KAFKA_INVENTORY_TOPIC: uniqueName('inventory-events'),
    KAFKA_SALES_TOPIC: uniqueName('sales-events'),
  };
}

function capture(): Output & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => void out_.push(l), err: (l) => void err_.push(l) };
}

/** The low-stock subject of `env`, its payload changed by `change` (in a copy). */
function lowStockWith(
  env: Record<string, string>,
  change: (p: PayloadSchema) => void,
): SchemaSubject {
  const subject = schemaSubjects(loadConfig(env).kafka).find(
    (s) => s.eventType === 'inventory.low_stock',
  )!;
  return { ...subject, schema: withPayload(subject.schema, change) };
}

async function registered(): Promise<Record<string, string>> {
  const env = uniqueEnv();
  const result = capture();
  assert.equal(await runCli(['schemas', 'register'], result, env), 0, result.err_.join('\n'));
  return env;
}

test('register, then check and diff: every subject registered once, by the record-name strategy', async () => {
  const env = await registered();
  const subjects = schemaSubjects(loadConfig(env).kafka);
  assert.deepEqual(
    subjects.map((s) => s.subject),
    [
      `${env['KAFKA_INVENTORY_TOPIC']}-inventory.low_stock`,
      `${env['KAFKA_INVENTORY_TOPIC']}-inventory.product_created`,
      `${env['KAFKA_INVENTORY_TOPIC']}-inventory.stock_adjusted`,
      `${env['KAFKA_SALES_TOPIC']}-sales.low_stock_alert_raised`,
      `${env['KAFKA_INVENTORY_TOPIC']}-inventory.stock_reserved`,
      `${env['KAFKA_INVENTORY_TOPIC']}-inventory.stock_reservation_rejected`,
      `${env['KAFKA_INVENTORY_TOPIC']}-inventory.stock_released`,
      `${env['KAFKA_SALES_TOPIC']}-sales.order_placed`,
      `${env['KAFKA_SALES_TOPIC']}-sales.order_cancelled`,
      `${env['KAFKA_SALES_TOPIC']}-sales.order_fulfilled`,
    ],
  );
  const res = await fetch(`${url}/config/${subjects[0]!.subject}`);
  assert.equal(
    ((await res.json()) as { compatibilityLevel: string }).compatibilityLevel,
    'FULL_TRANSITIVE',
  );

  const check = capture();
  assert.equal(await runCli(['schemas', 'check'], check, env), 0, check.err_.join('\n'));
  assert.equal(
    check.out_.filter((l) => l.startsWith('ok ')).length,
    subjects.length,
    check.out_.join('\n'),
  );

  const again = capture();
  assert.equal(
    await runCli(['schemas', 'register'], again, env),
    0,
    'registering again is a no-op',
  );
  assert.deepEqual(
    again.out_.map((l) => l.split(/\s+/).at(-1)),
    check.out_.map((l) => /id (\d+),/.exec(l)![1]),
    'the same ids',
  );

  const diff = capture();
  assert.equal(await runCli(['schemas', 'diff'], diff, env), 0);
  assert.equal(
    diff.out_.filter((l) => l.endsWith('→ contract: no change')).length,
    subjects.length,
  );
});

test('check: a required field removed is incompatible, exit 1 naming the subject and the field', async () => {
  const env = await registered();
  const changed = lowStockWith(env, removeRequired('category'));
  const result = capture();
  assert.equal(await schemasCheck({ client, subjects: [changed] }, result), 1);
  assert.deepEqual(result.err_.slice(0, -1), [
    `incompatible ${changed.subject}: payload.category: removed (a required field is gone), breaking`,
  ]);
  assert.deepEqual(result.out_, [`INCOMPATIBLE ${changed.subject}`]);
});

test("check: a field's type changed is incompatible, exit 1 naming the field", async () => {
  const env = await registered();
  const changed = lowStockWith(env, (p) => {
    p.properties['current_stock'] = { type: 'string' };
  });
  const result = capture();
  assert.equal(await schemasCheck({ client, subjects: [changed] }, result), 1);
  assert.match(
    result.err_.join('\n'),
    new RegExp(`${changed.subject}: payload\\.current_stock: type changed \\(integer → string\\)`),
  );
});

test('check: an added optional field is compatible (exit 0), and diff shows it; register then takes it', async () => {
  const env = await registered();
  const changed = lowStockWith(env, (p) => {
    p.properties['warehouse_zone'] = { type: 'string', maxLength: 20 };
  });
  const check = capture();
  assert.equal(
    await schemasCheck({ client, subjects: [changed] }, check),
    0,
    check.err_.join('\n'),
  );
  assert.deepEqual(check.out_, [`compatible  ${changed.subject}  not registered yet`]);

  const diff = capture();
  assert.equal(await schemasDiff({ client, subjects: [changed] }, diff), 0);
  assert.deepEqual(diff.out_.slice(1), ['  payload.warehouse_zone: added (optional string)']);

  const register = capture();
  assert.equal(await schemasRegister({ client, subjects: [changed] }, register), 0);
  assert.equal((await client.latest(changed.subject))?.version, 2);
});

test('register: the registry refuses an incompatible schema; exit 1 naming the field', async () => {
  const env = await registered();
  const changed = lowStockWith(env, (p) => {
    p.properties['priority_hint'] = { type: 'string' };
    p.required.push('priority_hint');
  });
  const result = capture();
  assert.equal(await schemasRegister({ client, subjects: [changed] }, result), 1);
  assert.deepEqual(result.out_, [`refused     ${changed.subject}`]);
  assert.equal(
    result.err_[0],
    `incompatible ${changed.subject}: payload.priority_hint: added (required string), breaking`,
  );
  assert.equal((await client.latest(changed.subject))?.version, 1, 'nothing registered');
});

test('export writes one <subject>.json per subject; register --dir registers those files, and check holds the contract against them', async () => {
  const env = uniqueEnv();
  const dir = await mkdtemp(join(tmpdir(), 'erp-schemas-'));
  try {
    const exported = capture();
    assert.equal(await runCli(['schemas', 'export', '--dir', dir], exported, env), 0);
    const subjects = schemaSubjects(loadConfig(env).kafka);
    assert.deepEqual((await readdir(dir)).sort(), subjects.map((s) => `${s.subject}.json`).sort());
    const lowStock = subjects.find((s) => s.eventType === 'inventory.low_stock')!;
    assert.deepEqual(
      JSON.parse(await readFile(join(dir, `${lowStock.subject}.json`), 'utf8')),
      lowStock.schema,
    );

    // A released contract that had a field the contract no longer requires… is what the files
    // hold here: the low-stock file gets a required field of its own, as if it was removed since.
    const file = join(dir, `${lowStock.subject}.json`);
    const released = withPayload(lowStock.schema, (p) => {
      p.properties['warehouse_code'] = { type: 'string' };
      p.required.push('warehouse_code');
    });
    await writeFile(file, JSON.stringify(released));
    const register = capture();
    assert.equal(
      await runCli(['schemas', 'register', '--dir', dir], register, env),
      0,
      register.err_.join('\n'),
    );
    assert.equal(register.out_.filter((l) => l.startsWith('registered ')).length, subjects.length);
    const latest = await client.latest(lowStock.subject);
    assert.deepEqual(latest?.schema, released, 'the file was registered, not the contract');

    const check = capture();
    assert.equal(await runCli(['schemas', 'check'], check, env), 1, check.out_.join('\n'));
    assert.ok(
      check.err_.some((l) => l.includes(lowStock.subject) && l.includes('payload.warehouse_code')),
      check.err_.join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('export and --dir usage errors exit 2', async () => {
  const env = uniqueEnv();
  const empty = await mkdtemp(join(tmpdir(), 'erp-schemas-'));
  try {
    await writeFile(join(empty, 'notes.txt'), 'not a schema');
    for (const args of [
      ['schemas', 'export'],
      ['schemas', 'check', '--dir', empty],
      ['schemas', 'register', '--dir', empty],
    ]) {
      const result = capture();
      assert.equal(await runCli(args, result, env), 2, args.join(' '));
      assert.match(result.err_[0] ?? '', /^error ERP_CLI_USAGE: /, args.join(' '));
    }
    await writeFile(join(empty, 'x.json'), '{ not json');
    const bad = capture();
    assert.equal(await runCli(['schemas', 'register', '--dir', empty], bad, env), 2);
    assert.match(bad.err_[0]!, /x\.json is not JSON/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test('usage errors exit 2 (ERP_CLI_USAGE); an unreachable registry is ERP_SCHEMA_REGISTRY_UNREACHABLE, exit 1', async () => {
  const env = uniqueEnv();
  for (const args of [
    ['schemas'],
    ['schemas', 'publish'],
    ['schemas', 'check', 'extra'],
    ['schemas', 'check', '--bogus'],
    ['schemas', 'diff', '--subject', 'no-such-subject'],
  ]) {
    const result = capture();
    assert.equal(await runCli(args, result, env), 2, args.join(' '));
    assert.match(result.err_[0] ?? '', /^error ERP_CLI_USAGE: /, args.join(' '));
  }
  const unset = capture();
  assert.equal(await runCli(['schemas', 'check'], unset, {}), 2);
  assert.match(unset.err_[0]!, /ERP_CLI_USAGE: SCHEMA_REGISTRY_URL is not set/);

  // Port 1: nothing listens there.
  const closed = capture();
  const status = await runCli(['schemas', 'check'], closed, {
    ...env,
    SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1/apis/ccompat/v7',
  });
  assert.equal(status, 1);
  assert.match(
    closed.err_[0]!,
    /^error ERP_SCHEMA_REGISTRY_UNREACHABLE: schema registry at http:\/\/127\.0\.0\.1:1\//,
  );
});
