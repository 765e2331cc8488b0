import type { BaseOptions } from '@platformatic/kafka';
import { kafkaConfigError } from './errors.ts';

export type SaslMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN';

/** How to reach and authenticate against the cluster; shared by producers, consumers and admin. */
export interface KafkaConnectionOptions {
  /** Client id sent to the brokers (shows up in broker logs and quotas). Required. */
  clientId: string;
  /** `host:port` pairs used to discover the cluster. Required, at least one. */
  bootstrapServers: string[];
  /** SASL authentication. Default: none. With `tls` set this is SASL_SSL, otherwise SASL_PLAINTEXT. */
  sasl?: {
    mechanism: SaslMechanism;
    username: string;
    password: string;
  };
  /** TLS towards the brokers. Default: none (plaintext). An empty object means TLS with the system CAs. */
  tls?: {
    /** PEM CA bundle that signed the broker certificates. Default: Node's bundled CAs. */
    ca?: string;
    /** PEM client certificate for mutual TLS. Default: none. */
    cert?: string;
    /** PEM private key of `cert`. Default: none. */
    key?: string;
    /** Verify the broker certificate and host name. Default: true; turn off only in throwaway setups. */
    rejectUnauthorized?: boolean;
  };
  /** Time allowed to open one TCP (and TLS/SASL) connection. Default: 5000 (the library's default). */
  connectTimeoutMs?: number;
}

/** The subset of the library's client options that comes from our connection options. */
export type LibraryConnectionOptions = Pick<
  BaseOptions,
  'clientId' | 'bootstrapBrokers' | 'connectTimeout' | 'sasl' | 'tls'
>;

const hostPort = /^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/;
const mechanisms: readonly string[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'];

/**
 * Validates once, up front, so a bad value fails with the option path instead of as a
 * connection error on first use.
 */
export function toLibraryConnectionOptions(conn: KafkaConnectionOptions): LibraryConnectionOptions {
  if (typeof conn.clientId !== 'string' || conn.clientId.trim() === '') {
    throw kafkaConfigError('clientId', 'must be a non-empty string');
  }
  if (!Array.isArray(conn.bootstrapServers) || conn.bootstrapServers.length === 0) {
    throw kafkaConfigError('bootstrapServers', 'must list at least one host:port');
  }
  conn.bootstrapServers.forEach((server, i) => {
    if (typeof server !== 'string' || !hostPort.test(server)) {
      throw kafkaConfigError(`bootstrapServers[${i}]`, `"${String(server)}" is not host:port`);
    }
  });
  const options: LibraryConnectionOptions = {
    clientId: conn.clientId,
    bootstrapBrokers: [...conn.bootstrapServers],
  };
  if (conn.connectTimeoutMs !== undefined) {
    if (!Number.isInteger(conn.connectTimeoutMs) || conn.connectTimeoutMs <= 0) {
      throw kafkaConfigError('connectTimeoutMs', 'must be a positive integer');
    }
    options.connectTimeout = conn.connectTimeoutMs;
  }
  if (conn.sasl !== undefined) {
    const { mechanism, username, password } = conn.sasl;
    if (!mechanisms.includes(mechanism)) {
      throw kafkaConfigError('sasl.mechanism', `must be one of ${mechanisms.join(', ')}`);
    }
    if (typeof username !== 'string' || username === '') {
      throw kafkaConfigError('sasl.username', 'must be a non-empty string');
    }
    if (typeof password !== 'string' || password === '') {
      throw kafkaConfigError('sasl.password', 'must be a non-empty string');
    }
    options.sasl = { mechanism, username, password };
  }
  if (conn.tls !== undefined) {
    const { ca, cert, key, rejectUnauthorized } = conn.tls;
    if ((cert === undefined) !== (key === undefined)) {
      throw kafkaConfigError('tls', 'cert and key must be given together');
    }
    // Node's tls.connect options; the library passes them through unchanged for every broker.
    options.tls = { rejectUnauthorized: rejectUnauthorized ?? true };
    if (ca !== undefined) options.tls.ca = ca;
    if (cert !== undefined) options.tls.cert = cert;
    if (key !== undefined) options.tls.key = key;
  }
  return options;
}
