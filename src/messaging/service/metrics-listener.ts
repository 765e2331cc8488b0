/**
 * /metrics on a port of its own, without a token: for a Prometheus that reaches the service over a
 * private interface, while the service's own port keeps asking for the `ops` scope. Only
 * `GET /metrics` is answered; nothing else of the service is reachable here.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { AppError, PlatformErrorCodes } from '../../platform/index.ts';

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464 */
  address: string;
  close(): Promise<void>;
}

export async function listenForMetrics(
  registry: Registry,
  host: string,
  port: number,
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if ((request.method === 'GET' || request.method === 'HEAD') && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(request.method === 'HEAD' ? undefined : text);
        },
        () => {
          response.writeHead(500).end();
        },
      );
      return;
    }
    const notFound = new AppError(
      PlatformErrorCodes.HTTP_NOT_FOUND,
      `only GET /metrics is served on this port, not ${request.method ?? ''} ${path ?? ''}`,
    );
    response.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify({ error: notFound.toJSON() }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    address: `http://${host}:${bound}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
