/**
 * The HTTP shell both services share: JSON errors with stable codes, tenant from the request,
 * health and readiness, Prometheus metrics, and a draining switch for graceful shutdown.
 * Routes are added by each service's app function; this file knows nothing about them.
 */
import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { AppError, isAppError } from './errors.ts';
import type { Logger } from './logger.ts';

export interface HttpOptions {
  logger: Logger;
  metrics: Registry;
  /** Answers /readyz: true once the service can do its work (database, Kafka). */
  isReady: () => boolean;
}

export interface HttpServer {
  app: FastifyInstance;
  /** From now on, new requests get 503 ERP_HTTP_DRAINING; those in flight finish. */
  drain(): void;
}

export function createHttpServer(options: HttpOptions): HttpServer {
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

  app.addHook('onRequest', async (_request, reply) => {
    if (draining) {
      await reply.code(503).header('connection', 'close').send(errorBody(draining503()));
    }
  });

  app.setErrorHandler((err, request, reply) => {
    if (isAppError(err)) {
      if (err.status >= 500) request.log.error({ err }, err.message);
      return reply.code(err.status).send(errorBody(err));
    }
    const fastifyErr = err as { statusCode?: number; code?: string; message?: string };
    if (typeof fastifyErr.statusCode === 'number' && fastifyErr.statusCode < 500) {
      // Fastify's own client errors (malformed JSON, body too large, wrong content type).
      const wrapped = new AppError('ERP_HTTP_BAD_REQUEST', fastifyErr.message ?? 'bad request', {
        status: fastifyErr.statusCode,
        context: { reason: fastifyErr.code },
      });
      return reply.code(wrapped.status).send(errorBody(wrapped));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody(new AppError('ERP_INTERNAL', 'internal error')));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(
      errorBody(
        new AppError('ERP_HTTP_NOT_FOUND', `no route ${request.method} ${request.url}`, {
          status: 404,
        }),
      ),
    ),
  );

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
    },
  };
}

function draining503(): AppError {
  return new AppError(
    'ERP_HTTP_DRAINING',
    'the service is shutting down; retry on another instance',
    {
      status: 503,
      retryable: true,
    },
  );
}

function errorBody(err: AppError): { error: Record<string, unknown> } {
  return { error: err.toJSON() };
}

const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** The tenant of a request, from X-Tenant-ID until authentication arrives. */
export function tenantOf(request: FastifyRequest): string {
  const raw = request.headers['x-tenant-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') {
    throw new AppError('ERP_HTTP_MISSING_TENANT', 'the X-Tenant-ID header is required', {
      status: 400,
    });
  }
  if (!TENANT_PATTERN.test(value)) {
    throw new AppError(
      'ERP_HTTP_INVALID_TENANT',
      'X-Tenant-ID must be 1-128 characters of A-Z a-z 0-9 . _ -',
      {
        status: 400,
      },
    );
  }
  return value;
}

/** Validates input with a zod schema; the error names the first bad field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = 'body',
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const field = first === undefined || first.path.length === 0 ? what : first.path.join('.');
  throw new AppError(
    'ERP_HTTP_INVALID_INPUT',
    `invalid ${what}: ${field}: ${first?.message ?? 'invalid'}`,
    {
      status: 400,
      context: {
        field,
        issues: result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
      },
    },
  );
}
