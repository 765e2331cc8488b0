/**
 * What makes the secure local broker secure (scripts/kafka.ts --secure): its TLS files, its SCRAM
 * users and their passwords, the topics it is provisioned with and the ACLs that say who may do
 * what. Everything secret is made at run time under the broker's git-ignored data folder, readable
 * by the current user only; nothing here is committed but the ACL table.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AclOperations,
  AclPermissionTypes,
  Admin,
  findErrorBy,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';
import type { Acl } from '@platformatic/kafka';
import { kafkaError } from './errors.ts';
import { run } from './process.ts';

/** The SCRAM users. `admin` is the super user that provisions topics and ACLs. */
export const PRINCIPALS = ['admin', 'inventory', 'sales', 'ops'] as const;
export type Principal = (typeof PRINCIPALS)[number];

export const MECHANISM = 'SCRAM-SHA-512';
/** The broker certificate's subject: its principal on the controller listener, a super user. */
export const BROKER_CN = 'erp-events-broker';

/** The topics the services declare (with the default 3 partitions), created by the admin. */
export const SECURE_TOPICS = [
  'inventory-events',
  'sales-events',
  'inventory-events.dlq',
  'sales-events.dlq',
] as const;
export const SALES_GROUP = 'sales-service-group';
/** The order saga's: Inventory consumes `sales-events` (INVENTORY_CONSUMER_GROUP). */
export const INVENTORY_GROUP = 'inventory-service-group';
/** `readTopic` (the DLQ CLI) reads as a throwaway group named with this prefix. */
export const READER_GROUP_PREFIX = 'erp-events-reader-';

type Op = keyof typeof AclOperations;
type Grant = [Principal, 'TOPIC' | 'GROUP', string, 'LITERAL' | 'PREFIXED', Op[]];

/**
 * Who may do what (README "Secure broker"). Only Inventory writes `inventory-events`: no one else
 * can inject a low-stock event. WRITE and READ imply DESCRIBE; WRITE on any topic allows the
 * idempotent producer (KIP-679). Redriving dead letters writes `inventory-events`, so it takes
 * the admin's credentials.
 */
export const ACL_TABLE: readonly Grant[] = [
  ['inventory', 'TOPIC', 'inventory-events', 'LITERAL', ['WRITE']],
  ['inventory', 'TOPIC', 'sales-events', 'LITERAL', ['READ']],
  ['inventory', 'GROUP', INVENTORY_GROUP, 'LITERAL', ['READ']],
  ['inventory', 'TOPIC', 'sales-events.dlq', 'LITERAL', ['WRITE']],
  ['sales', 'TOPIC', 'inventory-events', 'LITERAL', ['READ']],
  ['sales', 'GROUP', SALES_GROUP, 'LITERAL', ['READ']],
  ['sales', 'TOPIC', 'sales-events', 'LITERAL', ['WRITE']],
  ['sales', 'TOPIC', 'inventory-events.dlq', 'LITERAL', ['WRITE']],
  ['ops', 'TOPIC', 'inventory-events.dlq', 'LITERAL', ['READ']],
  ['ops', 'TOPIC', 'sales-events.dlq', 'LITERAL', ['READ']],
  ['ops', 'GROUP', READER_GROUP_PREFIX, 'PREFIXED', ['READ']],
];

export function secureFiles(data: string) {
  const tls = join(data, 'tls');
  const credentials = join(data, 'credentials');
  return {
    tls,
    caKey: join(tls, 'ca.key'),
    caFile: join(tls, 'ca.pem'),
    /** The broker's private key followed by its certificate: Kafka's PEM keystore. */
    keystore: join(tls, 'broker.pem'),
    credentials,
    passwords: join(credentials, 'passwords.json'),
    envFile: (principal: Principal) => join(credentials, `${principal}.env`),
  };
}
export type SecureFiles = ReturnType<typeof secureFiles>;

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args).catch((err: unknown) => ({ code: -1, out: String(err) }));
  if (r.code !== 0) {
    throw kafkaError('TLS_SETUP_FAILED', `openssl ${args[0]} failed:\n${r.out.slice(-2000)}`);
  }
}

/**
 * A CA and a broker certificate it signed, made once per data folder (clients keep trusting the
 * CA across restarts). The broker certificate names 127.0.0.1 and localhost (clients verify the
 * host name) and serves as the broker's client certificate towards its controller listener.
 */
export async function ensureCertificates(f: SecureFiles, days = 825): Promise<void> {
  if (existsSync(f.keystore) && existsSync(f.caFile)) return;
  await rm(f.tls, { recursive: true, force: true });
  await mkdir(f.tls, { recursive: true, mode: 0o700 });
  const brokerKey = join(f.tls, 'broker.key');
  const csr = join(f.tls, 'broker.csr');
  const cert = join(f.tls, 'broker.crt');
  const ext = join(f.tls, 'broker.ext');
  await makeCa(f.caKey, f.caFile, 'erp-events local CA', days);
  await openssl([
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    brokerKey,
  ]);
  await openssl(['req', '-new', '-key', brokerKey, '-subj', `/CN=${BROKER_CN}`, '-out', csr]);
  await writeFile(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await openssl([
    'x509', '-req', '-in', csr, '-CA', f.caFile, '-CAkey', f.caKey, '-CAcreateserial',
    '-days', String(days), '-sha256', '-extfile', ext, '-out', cert,
  ]); // prettier-ignore
  await writeFile(
    f.keystore,
    (await readFile(brokerKey, 'utf8')) + (await readFile(cert, 'utf8')),
    { mode: 0o600 },
  );
  await Promise.all([brokerKey, csr, ext].map((file) => rm(file, { force: true })));
  await chmod(f.caKey, 0o600);
}

/** A self-signed CA (key and certificate PEM files); tests make a second one that nobody trusts. */
export async function makeCa(keyFile: string, certFile: string, cn: string, days = 825) {
  await openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', String(days), '-sha256', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
}

export type Passwords = Record<Principal, string>;

/** New random passwords, written 0600 before they are used (format stores them as SCRAM hashes). */
export async function newPasswords(f: SecureFiles): Promise<Passwords> {
  await mkdir(f.credentials, { recursive: true, mode: 0o700 });
  const passwords = Object.fromEntries(
    PRINCIPALS.map((p) => [p, randomBytes(24).toString('base64url')]),
  ) as Passwords;
  await writeFile(f.passwords, `${JSON.stringify(passwords, null, 2)}\n`, { mode: 0o600 });
  return passwords;
}

export async function readPasswords(f: SecureFiles): Promise<Passwords> {
  try {
    return JSON.parse(await readFile(f.passwords, 'utf8')) as Passwords;
  } catch (err) {
    throw kafkaError(
      'CREDENTIALS_MISSING',
      `the secure broker's storage is formatted but ${f.passwords} cannot be read; ` +
        `stop it and delete its data folder to start afresh`,
      { cause: String(err) },
    );
  }
}

/** StorageTool format arguments that create every user (base64url passwords need no quoting). */
export const scramArgs = (passwords: Passwords): string[] =>
  PRINCIPALS.flatMap((p) => ['--add-scram', `${MECHANISM}=[name=${p},password=${passwords[p]}]`]);

/** The KAFKA_* variables a service or the CLI needs to connect as `principal`. */
export function clientEnv(
  f: SecureFiles,
  bootstrap: string,
  principal: Principal,
  passwords: Passwords,
): Record<string, string> {
  return {
    KAFKA_BOOTSTRAP_SERVERS: bootstrap,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: MECHANISM,
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD: passwords[principal],
    KAFKA_SSL_CA_FILE: f.caFile,
  };
}

/** One `<principal>.env` per user (0600), to `set -a; . file` or `node --env-file=file`. */
export async function writeEnvFiles(f: SecureFiles, bootstrap: string, passwords: Passwords) {
  for (const p of PRINCIPALS) {
    const env = clientEnv(f, bootstrap, p, passwords);
    const text = Object.entries(env).map(([k, v]) => `${k}=${v}\n`);
    await writeFile(f.envFile(p), text.join(''), { mode: 0o600 });
    await chmod(f.envFile(p), 0o600);
  }
}

/** The admin's client settings for Kafka's Java tools (`--command-config`), 0600. */
export async function writeAdminToolConfig(f: SecureFiles, file: string, passwords: Passwords) {
  const jaas =
    'org.apache.kafka.common.security.scram.ScramLoginModule required ' +
    `username="admin" password="${passwords.admin}";`;
  const lines = [
    'security.protocol=SASL_SSL',
    `sasl.mechanism=${MECHANISM}`,
    `sasl.jaas.config=${jaas}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${f.caFile}`,
  ];
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

function toAcls([principal, type, name, pattern, ops]: Grant): Acl[] {
  return ops.map((op) => ({
    resourceType: ResourceTypes[type],
    resourceName: name,
    resourcePatternType: ResourcePatternTypes[pattern],
    principal: `User:${principal}`,
    host: '*',
    operation: AclOperations[op],
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/**
 * As the admin: creates the topics and the ACLs. Both are idempotent, so it runs on every
 * ensure: a start that died half-way is completed by the next one.
 */
export async function provision(
  f: SecureFiles,
  bootstrap: string,
  passwords: Passwords,
  { partitions = 3, replicas = 1 }: { partitions?: number; replicas?: number } = {},
): Promise<void> {
  const admin = new Admin({
    clientId: 'erp-events-provision',
    bootstrapBrokers: bootstrap.split(','),
    sasl: { mechanism: MECHANISM, username: 'admin', password: passwords.admin },
    tls: { ca: await readFile(f.caFile, 'utf8') },
  });
  try {
    for (const topic of SECURE_TOPICS) {
      try {
        await admin.createTopics({ topics: [topic], partitions, replicas });
      } catch (err) {
        if (!(err instanceof Error && findErrorBy(err, 'apiId', 'TOPIC_ALREADY_EXISTS'))) throw err;
      }
    }
    await admin.createAcls({ creations: ACL_TABLE.flatMap(toAcls) });
  } catch (err) {
    throw kafkaError(
      'PROVISION_FAILED',
      `creating topics and ACLs as admin failed: ${String(err)}`,
    );
  } finally {
    await admin.close().catch(() => undefined);
  }
}
