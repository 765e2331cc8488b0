/**
 * One SERVER span per request, parented by the caller's `traceparent` if it sent one, and active
 * while the route's handler runs, so that the command's spans and the outbox rows it writes belong
 * to the caller's trace. Written here rather than taken from `@fastify/otel`, which makes a span
 * for every hook and handler as well: five to ten spans a request where one answers "how long,
 * and what did it cause".
 *
 * Health, readiness and metrics are not traced: a scraper calls them every few seconds.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  contextFromHeaders,
  contextWith,
  runIn,
  SpanKind,
  SpanStatusCode,
  tracer,
  tracingOn,
} from '../tracing.ts';
import type { Context, Span } from '../tracing.ts';

const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

interface RequestTrace {
  span: Span;
  context: Context;
}

/** Adds the hooks when tracing is on when the app is built; nothing otherwise. */
export function installHttpTracing(app: FastifyInstance): void {
  if (!tracingOn()) return;
  const traces = new WeakMap<FastifyRequest, RequestTrace>();

  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && UNTRACED.has(route)) return done();
    const parent = contextFromHeaders(request.headers);
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?', 1)[0] ?? request.url,
          ...(route === undefined ? {} : { 'http.route': route }),
        },
      },
      parent,
    );
    traces.set(request, { span, context: contextWith(span, parent) });
    done();
  });

  // Handlers run inside their request's span: wrapped as each route is added.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function traced(this: FastifyInstance, request, reply) {
      const found = traces.get(request);
      if (found === undefined) return handler.call(this, request, reply);
      return runIn(found.context, () => handler.call(this, request, reply));
    };
  });

  app.addHook('onResponse', (request, reply, done) => {
    const found = traces.get(request);
    if (found !== undefined) {
      const status = reply.statusCode;
      found.span.setAttribute('http.response.status_code', status);
      if (status >= 500) found.span.setStatus({ code: SpanStatusCode.ERROR });
      found.span.end();
      traces.delete(request);
    }
    done();
  });
}
