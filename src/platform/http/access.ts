/**
 * Access control for the HTTP shell: every route but /healthz and /readyz needs a verified
 * principal (see platform/auth), and a scope. A route says which with `config: { access }`;
 * without it, a GET or HEAD needs the service's read scope and anything else its write scope,
 * so a new route is never open by omission. /metrics needs `ops` unless AUTH_OPEN_METRICS.
 *
 * Runs in onRequest, before the body is read: a caller without a token costs no parsing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { challengeFor, insufficientScope } from '../auth/index.ts';
import type { Authenticator, Principal } from '../auth/index.ts';
import type { AppError } from '../errors.ts';
import { asCodedError, errorResponse } from './errors.ts';
import type { HttpStatusTable } from './errors.ts';
import { createRateLimiter, DEFAULT_RATE_LIMIT } from './rate-limit.ts';
import type { RateLimitSettings } from './rate-limit.ts';

/** `public`: no token; `authenticated`: any verified principal; otherwise the scope it needs. */
export type RouteAccess = 'public' | 'authenticated' | (string & {});

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Who the request acts for; set before any handler runs (absent on public routes). */
    principal?: Principal;
  }
}

export interface AccessOptions {
  authenticator: Authenticator;
  /** The service's scopes for reading and for changing its data. Default: any principal. */
  scopes?: { read: string; write: string };
  /** /metrics without a token. Default: false. */
  openMetrics?: boolean;
  /** Requests per tenant (see rate-limit.ts). Default: DEFAULT_RATE_LIMIT. */
  rateLimit?: RateLimitSettings;
}

const missingTenants = new WeakMap<FastifyRequest, () => AppError>();

export function installAccessControl(
  app: FastifyInstance,
  options: AccessOptions,
  statuses: HttpStatusTable,
): void {
  const { authenticator, scopes } = options;
  app.decorateRequest('principal', undefined);
  const limit = createRateLimiter(app, options.rateLimit ?? DEFAULT_RATE_LIMIT);
  app.addHook('onRequest', async (request, reply) => {
    if (reply.sent) return; // refused already (draining, no Host)
    const required = requiredAccess(request, options);
    if (required === 'public') return;
    try {
      const principal = await authenticator.authenticate(request.headers);
      // AUTH_MODE=none grants every scope, the services' and any other.
      const granted = authenticator.mode === 'none' || principal.scopes.has(required);
      if (required !== 'authenticated' && !granted) {
        throw insufficientScope(required);
      }
      request.principal = principal;
      missingTenants.set(request, () => authenticator.missingTenant());
      // Counted once known to be somebody's, so a flood of bad tokens uses no tenant's quota.
      await limit?.(request, reply);
    } catch (err) {
      const coded = asCodedError(err);
      if (coded === undefined) throw err;
      await refuse(reply, coded, statuses);
    }
  });

  function requiredAccess(request: FastifyRequest, o: AccessOptions): RouteAccess {
    const declared = request.routeOptions.config.access;
    if (declared !== undefined) return declared;
    if (request.routeOptions.url === '/metrics') return o.openMetrics === true ? 'public' : 'ops';
    // No route matched: still authenticated, so the 404s tell nobody what exists.
    if (request.routeOptions.url === undefined || scopes === undefined) return 'authenticated';
    return request.method === 'GET' || request.method === 'HEAD' ? scopes.read : scopes.write;
  }
}

/** Why the request has no tenant, in its authenticator's words (see tenantOf). */
export function missingTenantOf(request: FastifyRequest): (() => AppError) | undefined {
  return missingTenants.get(request);
}

async function refuse(
  reply: FastifyReply,
  err: AppError,
  statuses: HttpStatusTable,
): Promise<void> {
  const { status, body } = errorResponse(err, statuses);
  const challenge = challengeFor(err);
  if (challenge !== undefined) void reply.header('www-authenticate', challenge);
  if (status >= 500) reply.log.warn({ err }, err.message);
  await reply.code(status).send(body);
}
