/**
 * The HTTP shell every service shares: JSON errors with stable codes, health and readiness,
 * Prometheus metrics, and a draining switch for graceful shutdown. Routes are added by each
 * service; this file knows nothing about them except the status table of their error codes.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fastify, LogController } from 'fastify';
import { z } from 'zod';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { DEFAULT_HTTP_SETTINGS } from '../config.ts';
import type { HttpSettings } from '../config.ts';
import { AppError, PlatformErrorCodes } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  asCodedError,
  errorResponse,
  forbiddenKey,
  missingHost,
  PLATFORM_HTTP_STATUSES,
  refusedRequest,
  unmetExpectation,
} from './errors.ts';
import type { HttpStatusTable, RequestLimits } from './errors.ts';
import { installAccessControl } from './access.ts';
import { installDocs } from './docs.ts';
import type { DocsOptions } from './docs.ts';
import type { RegisteredRoute, RouteDocs } from './openapi.ts';
import { installHttpTracing } from './tracing.ts';
import type { AccessOptions } from './access.ts';

/** Longest path parameter the router accepts (Fastify's default); ids are 36-character UUIDs. */
const MAX_PARAM_LENGTH = 100;

export interface HttpOptions {
  logger: Logger;
  metrics: Registry;
  /** Answers /readyz: true once the service can do its work (database, Kafka). */
  isReady: () => boolean;
  /** HTTP status of the service's own error codes. Default: none (the platform's only). */
  errorStatuses?: HttpStatusTable;
  /** How long to wait on a client (HTTP_*_TIMEOUT_MS). Default: DEFAULT_HTTP_SETTINGS. */
  timeouts?: Partial<HttpSettings>;
  /**
   * Who may call what (see access.ts). Required: a shell without it would trust any caller;
   * `headerTenancy()` is that, said out loud.
   */
  access: AccessOptions;
  /** What /docs says about the service, and its AsyncAPI document. Default: a generic title. */
  docs?: DocsOptions;
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
  const { requestTimeoutMs, keepAliveTimeoutMs, ...timeouts } = {
    ...DEFAULT_HTTP_SETTINGS,
    ...options.timeouts,
  };
  // Node refuses headers allowed longer than the whole request; the configuration refuses it too.
  const headersTimeoutMs = Math.min(timeouts.headersTimeoutMs, requestTimeoutMs);
  const limits = (): RequestLimits => ({
    headersTimeoutMs: app.server.headersTimeout,
    requestTimeoutMs: app.server.requestTimeout,
    maxHeaderBytes: maxHeaderSize,
    maxParamLength: MAX_PARAM_LENGTH,
  });
  const app = fastify({
    loggerInstance,
    // Request lines would drown the event logs; errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // While closing, our drain hook answers 503 ERP_HTTP_DRAINING, not Fastify's bare 503.
    return503OnClosing: false,
    bodyLimit: 1_048_576,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A slow or stalled client (headers, then 7 of 100 promised bytes) gets 408 and its socket
    // closed, rather than holding it for ever (Fastify's default: no request timeout).
    requestTimeout: requestTimeoutMs,
    // A socket with no byte moving either way (a client that stopped reading its answer) is
    // closed, later than a stalled request gets its 408.
    connectionTimeout: 2 * requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: headersTimeoutMs,
      // Node enforces both timeouts by sweeping its connections every 30 s by default: a
      // timeout would then take up to 30 s more. A sweep walks a list; once a second is cheap.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeoutMs / 2))),
      // Node answers a missing Host header with a bare 400 of its own: checked in onRequest.
      requireHostHeader: false,
    },
    // What the router refuses before any hook or route runs (a bad percent-encoding, a path
    // parameter too long) answers in our shape too, not Fastify's.
    // (Its third error, a failed async route constraint, is ours: we have none, but it is a 500.)
    frameworkErrors: (err, request, reply) => {
      if ((err.statusCode ?? 500) >= 500) request.log.error({ err }, 'unhandled error');
      const { status, body } = errorResponse(
        (err.statusCode ?? 500) < 500
          ? refusedRequest(err, limits())
          : new AppError(PlatformErrorCodes.INTERNAL, 'internal error'),
        statuses,
      );
      void (reply as FastifyReply).code(status).send(body);
    },
    // What Node's HTTP parser refuses never reaches Fastify: answered on the raw socket.
    clientErrorHandler: (err, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const refused = refusedRequest(err, limits());
      options.logger.debug({ code: refused.code, reason: err.code }, 'request refused');
      answerRaw(socket, errorResponse(refused, statuses));
      socket.destroy();
    },
  });
  // Without these listeners Node answers a bare 417 to an unknown `Expect`, and closes the socket
  // of a CONNECT (a proxy request) without a word.
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const { status, body } = errorResponse(unmetExpectation(request.headers.expect), statuses);
    // The body the client may send anyway is not read: the socket cannot be reused.
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      connection: 'close',
    });
    response.end(JSON.stringify(body));
  });
  app.server.on('connect', (request: IncomingMessage, socket: Socket) => {
    const notFound = new AppError(
      PlatformErrorCodes.HTTP_NOT_FOUND,
      `no route ${request.method ?? 'CONNECT'} ${request.url ?? ''}`,
    );
    answerRaw(socket, errorResponse(notFound, statuses));
    socket.destroy();
  });
  // Before any route: the OpenAPI document is generated from every registered one.
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({
        method,
        url: route.url,
        access: route.config?.access,
        docs: route.config?.docs,
      });
    }
  });
  // First, so that the request's span covers the other hooks too.
  installHttpTracing(app);
  let draining = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];

  app.addHook('onRequest', async (request, reply) => {
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
    } else if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      const { status, body } = errorResponse(missingHost(), statuses);
      await reply.code(status).header('connection', 'close').send(body);
    }
  });

  installAccessControl(app, options.access, statuses);

  // Fastify's own parser, which refuses `__proto__` and `constructor.prototype` keys, says
  // "not valid JSON" about them: say why instead. Valid JSON only costs a second parse when
  // refused, never when accepted.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    void parseJson(request, text, (err, value) => {
      if (err !== null && isJson(text)) done(forbiddenKey(), undefined);
      else done(err, value);
    });
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

  const open = (docs: RouteDocs) => ({ config: { access: 'public', docs } }) as const;
  app.get('/healthz', open(KIT_DOCS.healthz), () => ({ status: 'ok' }));
  app.get('/readyz', open(KIT_DOCS.readyz), async (_request, reply) => {
    const ready = options.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready' });
  });
  app.get('/metrics', { config: { docs: KIT_DOCS.metrics } }, async (_request, reply) => {
    return reply
      .header('content-type', options.metrics.contentType)
      .send(await options.metrics.metrics());
  });

  const jwks = options.access.authenticator.jwks;
  if (jwks !== undefined) app.get('/.well-known/jwks.json', open(KIT_DOCS.jwks), () => jwks);

  installDocs(app, routes, {
    ...options.docs,
    statuses,
    ...(options.access.scopes === undefined ? {} : { scopes: options.access.scopes }),
    ...(options.access.openMetrics === undefined
      ? {}
      : { openMetrics: options.access.openMetrics }),
  });

  return {
    app,
    drain() {
      draining = true;
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
    },
  };
}

const KIT_DOCS = {
  healthz: {
    summary: 'Liveness: the process answers',
    tag: 'operations',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
  },
  readyz: {
    summary: 'Readiness: the service can do its work (database, Kafka)',
    tag: 'operations',
    responses: {
      200: { description: 'Ready', schema: z.object({ status: z.literal('ready') }) },
      503: {
        description: 'Not ready yet, or shutting down (then the error ERP_HTTP_DRAINING)',
        schema: z.union([
          z.object({ status: z.literal('not_ready') }),
          z.object({ error: z.looseObject({ code: z.string() }) }),
        ]),
      },
    },
  },
  metrics: {
    summary: 'Prometheus metrics',
    description:
      'Scope `ops`, unless AUTH_OPEN_METRICS; `<SERVICE>_METRICS_PORT` serves it without a token on a port of its own.',
    tag: 'operations',
    responses: {
      200: { description: 'Prometheus text exposition format', contentType: 'text/plain' },
    },
  },
  jwks: {
    summary: "The development issuer's public keys (AUTH_MODE=dev only)",
    tag: 'operations',
    responses: {
      200: {
        description: 'A JSON Web Key Set',
        schema: z.looseObject({ keys: z.array(z.looseObject({})) }),
      },
    },
  },
} satisfies Record<string, RouteDocs>;

function draining503(): AppError {
  return new AppError(
    PlatformErrorCodes.HTTP_DRAINING,
    'the service is shutting down; retry on another instance',
    { retryable: true },
  );
}

/**
 * Writes an error response straight on the socket, as Node itself does for what its parser refuses:
 * there is no request to answer through. Unless a response is already under way on it (a pipelined
 * request), which the peer would read as garbage.
 */
function answerRaw(socket: Socket, { status, body }: { status: number; body: unknown }): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) return;
  const json = JSON.stringify(body);
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(json)}\r\n` +
      'connection: close\r\n\r\n' +
      json,
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
