/**
 * Per-tenant rate limiting with @fastify/rate-limit (its in-memory store: each instance counts
 * its own requests, so N instances allow N times the limit). Keyed by the authenticated tenant,
 * and applied after authentication: one tenant's burst cannot starve another, and a caller
 * without a valid token is refused before it counts against anybody.
 */
import rateLimitPlugin from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, PlatformErrorCodes } from '../errors.ts';

export interface RateLimitSettings {
  /** Requests per tenant per window (RATE_LIMIT_MAX); 0 turns limiting off. */
  max: number;
  /** RATE_LIMIT_WINDOW_MS. */
  windowMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { max: 6_000, windowMs: 60_000 };

export type Limiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Registers the plugin (not globally: the access hook calls it once the principal is known) and
 * returns the limiter; it is usable once the server is ready.
 */
export function createRateLimiter(
  app: FastifyInstance,
  settings: RateLimitSettings,
): Limiter | undefined {
  if (settings.max === 0) return undefined;
  let limit: Limiter | undefined;
  void app.register(rateLimitPlugin, { global: false });
  app.after(() => {
    limit = app.rateLimit({
      max: settings.max,
      timeWindow: settings.windowMs,
      // Tenants by tenant; a tenantless principal (an operator) by its subject.
      keyGenerator: (request) =>
        request.principal?.tenantId !== undefined
          ? `tenant:${request.principal.tenantId}`
          : `subject:${request.principal?.subject ?? request.ip}`,
      errorResponseBuilder: (_request, context) =>
        new AppError(
          PlatformErrorCodes.HTTP_RATE_LIMITED,
          `too many requests for this tenant: at most ${context.max} per ${context.after}; retry after ${Math.ceil(context.ttl / 1000)} s`,
          {
            retryable: true,
            context: { limit: context.max, retry_after_seconds: Math.ceil(context.ttl / 1000) },
          },
        ),
    }) as Limiter;
  });
  return (request, reply) => (limit === undefined ? Promise.resolve() : limit(request, reply));
}
