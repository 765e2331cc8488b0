/**
 * The HTTP shell every service shares: JSON errors with stable codes, health and readiness,
 * Prometheus metrics, and a draining switch for graceful shutdown. Routes are added by each
 * service; this file knows nothing about them except the status table of their error codes.
 */
import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { AppError, PlatformErrorCodes } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { asCodedError, errorResponse, PLATFORM_HTTP_STATUSES } from './errors.ts';
import type { HttpStatusTable } from './errors.ts';

export interface HttpOptions {
  logger: Logger;
  metrics: Registry;
  /** Answers /readyz: true once the service can do its work (database, Kafka). */
  isReady: () => boolean;
  /** HTTP status of the service's own error codes. Default: none (the platform's only). */
  errorStatuses?: HttpStatusTable;
}

export interface HttpServer {
  app: FastifyInstance;
  /**
   * From now on, new requests get 503 ERP_HTTP_DRAINING (with `connection: close`); resolves once
   * the requests in flight have been answered (or their clients went away). The server keeps
   * listening, so that late clients get the 503 rather than a refused connection, until closed.
   */
  drain(): Promise<void>;
}

export function createHttpServer(options: HttpOptions): HttpServer {
  const statuses: HttpStatusTable = { ...PLATFORM_HTTP_STATUSES, ...options.errorStatuses };
  // Widened to Fastify's logger type so that the app keeps Fastify's default generics.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = fastify({
    loggerInstance,
    // Request lines would drown the event logs; errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // While closing, our drain hook answers 503 ERP_HTTP_DRAINING, not Fastify's bare 503.
    return503OnClosing: false,
    bodyLimit: 1_048_576,
  });
  let draining = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];

  app.addHook('onRequest', async (_request, reply) => {
    inFlight++;
    let finished = false;
    // 'close' also fires when the client goes away first: its handler may still be running,
    // which Fastify's own close() does not wait for either.
    const done = (): void => {
      if (finished) return;
      finished = true;
      inFlight--;
      if (inFlight === 0) for (const resolve of idle.splice(0)) resolve();
    };
    reply.raw.once('finish', done);
    reply.raw.once('close', done);
    if (draining) {
      const { status, body } = errorResponse(draining503(), statuses);
      await reply.code(status).header('connection', 'close').send(body);
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const coded = asCodedError(err);
    if (coded !== undefined) {
      const { status, body } = errorResponse(coded, statuses);
      if (status >= 500) request.log.error({ err }, coded.message);
      return reply.code(status).send(body);
    }
    const fastifyErr = err as { statusCode?: number; code?: string; message?: string };
    if (typeof fastifyErr.statusCode === 'number' && fastifyErr.statusCode < 500) {
      // Fastify's own client errors (malformed JSON, body too large, wrong content type) keep
      // Fastify's status.
      const wrapped = new AppError(
        PlatformErrorCodes.HTTP_BAD_REQUEST,
        fastifyErr.message ?? 'bad request',
        { context: { reason: fastifyErr.code } },
      );
      return reply.code(fastifyErr.statusCode).send({ error: wrapped.toJSON() });
    }
    request.log.error({ err }, 'unhandled error');
    const internal = new AppError(PlatformErrorCodes.INTERNAL, 'internal error');
    return reply.code(500).send({ error: internal.toJSON() });
  });

  app.setNotFoundHandler((request, reply) => {
    const { status, body } = errorResponse(
      new AppError(PlatformErrorCodes.HTTP_NOT_FOUND, `no route ${request.method} ${request.url}`),
      statuses,
    );
    return reply.code(status).send(body);
  });

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = options.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready' });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply
      .header('content-type', options.metrics.contentType)
      .send(await options.metrics.metrics());
  });

  return {
    app,
    drain() {
      draining = true;
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
    },
  };
}

function draining503(): AppError {
  return new AppError(
    PlatformErrorCodes.HTTP_DRAINING,
    'the service is shutting down; retry on another instance',
    { retryable: true },
  );
}
