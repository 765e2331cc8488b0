/** Is a broker there, and is it serving? Raw probes that need no client library. */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';

const HOST = '127.0.0.1';

export function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: HOST, port });
    const finish = (open: boolean) => {
      socket.destroy();
      done(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** How to reach the listener: plain TCP, or TLS trusting `ca` (ApiVersions needs no SASL yet). */
export type ProbeTransport = { tlsCa?: string };

/**
 * A listening socket is not a ready broker (acceptors bind before they accept), so ask for
 * ApiVersions v0: any reply with our correlation id means requests are being served.
 */
export function answersApiVersions(
  port: number,
  transport: ProbeTransport = {},
  timeoutMs = 2000,
): Promise<boolean> {
  return new Promise((done) => {
    const clientId = Buffer.from('erp-events-probe');
    const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    req.writeInt32BE(req.length - 4, 0);
    req.writeInt16BE(18, 4); // ApiVersions
    req.writeInt16BE(0, 6);
    req.writeInt32BE(0x5eed, 8);
    req.writeInt16BE(clientId.length, 12);
    clientId.copy(req, 14);
    const socket: Socket =
      transport.tlsCa === undefined
        ? connect({ host: HOST, port })
        : tlsConnect({ host: HOST, port, ca: transport.tlsCa });
    let got = Buffer.alloc(0);
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once(transport.tlsCa === undefined ? 'connect' : 'secureConnect', () =>
      socket.write(req),
    );
    socket.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length >= 8) finish(got.readInt32BE(4) === 0x5eed);
    });
  });
}

export async function waitUntilServing(
  port: number,
  timeoutMs: number,
  transport: ProbeTransport = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answersApiVersions(port, transport)) return true;
    await sleep(250);
  }
  return false;
}
