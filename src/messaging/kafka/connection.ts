/** Turns the parsed Kafka settings into the messaging layer's connection options (reads TLS files once). */
import { readFileSync } from 'node:fs';
import type { KafkaSettings } from '../../platform/index.ts';
import { AppError, PlatformErrorCodes } from '../../platform/index.ts';
import type { KafkaConnectionOptions } from './options.ts';

export function kafkaConnectionFrom(
  settings: KafkaSettings,
  clientSuffix: string,
): KafkaConnectionOptions {
  const conn: KafkaConnectionOptions = {
    clientId: `${settings.clientId}-${clientSuffix}`,
    bootstrapServers: settings.bootstrapServers,
  };
  if (settings.sasl !== undefined) conn.sasl = settings.sasl;
  if (settings.tls !== undefined) {
    const tls: NonNullable<KafkaConnectionOptions['tls']> = {};
    if (settings.tls.caFile !== undefined)
      tls.ca = readPem('KAFKA_SSL_CA_FILE', settings.tls.caFile);
    if (settings.tls.certFile !== undefined)
      tls.cert = readPem('KAFKA_SSL_CERT_FILE', settings.tls.certFile);
    if (settings.tls.keyFile !== undefined)
      tls.key = readPem('KAFKA_SSL_KEY_FILE', settings.tls.keyFile);
    conn.tls = tls;
  }
  return conn;
}

function readPem(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError(
      PlatformErrorCodes.CFG_INVALID,
      `invalid configuration: ${variable}: cannot read ${path}`,
      {
        cause: err,
        context: { variables: [variable] },
      },
    );
  }
}
