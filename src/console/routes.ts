/**
 * The console's HTTP surface: the pages (one HTML shell, public: it holds no data), its assets
 * from src/console/assets and node_modules (uPlot; no CDN), a session endpoint and the JSON API
 * the pages poll, which needs the `ops` scope. A browser cannot send a bearer header on a
 * navigation, so `POST /session` takes an ops token once and keeps it in an HttpOnly, SameSite
 * Strict cookie that the authenticator reads like the header (see app.ts).
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ClusterReader, KafkaConnectionOptions } from '../messaging/index.ts';
import { AppError, insufficientScope, parseInput } from '../platform/index.ts';
import type { Authenticator } from '../platform/index.ts';
import { listDeadLetters, redriveDeadLetters, showDeadLetter } from './dead-letters.ts';
import { ConsoleErrorCodes, otherTenantError, upstreamError } from './errors.ts';
import type { OverviewPoller } from './overview.ts';
import type { ConsoleSettings } from './settings.ts';
import type { Operator, Upstream } from './upstream.ts';

export const SESSION_COOKIE = 'erp_console_token';
export const PAGES = ['/', '/dead-letters', '/alerts', '/orders', '/topics', '/replay'] as const;

export interface ConsoleRoutesOptions {
  settings: ConsoleSettings;
  authenticator: Authenticator;
  conn: KafkaConnectionOptions;
  /** Dead-letter topics the operator can browse (`<consumed topic>.dlq`). */
  deadLetterTopics: readonly string[];
  overview: OverviewPoller;
  kafka: ClusterReader;
  upstream: Upstream;
}

const ASSETS: Record<string, { file: URL | string; type: string }> = {
  'console.js': {
    file: new URL('./assets/console.js', import.meta.url),
    type: 'application/javascript; charset=utf-8',
  },
  'console.css': {
    file: new URL('./assets/console.css', import.meta.url),
    type: 'text/css; charset=utf-8',
  },
  'uPlot.iife.min.js': {
    file: 'uplot/dist/uPlot.iife.min.js',
    type: 'application/javascript; charset=utf-8',
  },
  'uPlot.min.css': { file: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

const tenant = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'a tenant id: 1-128 of A-Z a-z 0-9 . _ -');
const time = z.iso.datetime({ offset: true }).or(z.iso.date()).optional();
const dlqQuery = (topics: readonly string[]) =>
  z.strictObject({
    topic: z.enum(topics as [string, ...string[]]).optional(),
    code: z.string().min(1).max(100).optional(),
    event_type: z.string().min(1).max(200).optional(),
    tenant: tenant.optional(),
    since: time,
    until: time,
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  });
const position = z.strictObject({
  partition: z.coerce.number().int().min(0),
  offset: z.string().regex(/^\d{1,19}$/, 'an offset'),
});
const redriveBody = (topics: readonly string[]) =>
  z.strictObject({
    topic: z.enum(topics as [string, ...string[]]).optional(),
    positions: z
      .array(z.string().regex(/^\d+:\d+$/, '<partition>:<offset>'))
      .min(1)
      .max(1000),
    dry_run: z.boolean(),
    /** With dry_run false: how many the preview said; a different count now sends nothing. */
    expected: z.number().int().min(0).optional(),
  });
const tenantQuery = z.strictObject({
  tenant,
  status: z.enum(['open', 'acknowledged']).optional(),
});
const sessionBody = z.strictObject({ token: z.string().min(1).max(8192) });
/** Shape only: Sales checks the positions' syntax and answers its own 400. */
const replayText = z.string().trim().min(1).max(4000);
const replayBody = z.strictObject({
  from: replayText,
  to: replayText.optional(),
  tenant: tenant.optional(),
  event_type: replayText.optional(),
});

/** Statuses after which an order cannot move any more (today's and the saga's, any case). */
const FINAL_ORDER_STATES = new Set(['fulfilled', 'cancelled', 'canceled', 'rejected', 'completed']);

export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): void {
  const { settings, authenticator, conn, deadLetterTopics, upstream } = options;
  const ops = { config: { access: 'ops' } } as const;
  const open = { config: { access: 'public' } } as const;
  const assets = new Map<string, Buffer>();
  const asset = (name: string): Buffer => {
    let content = assets.get(name);
    if (content === undefined) {
      const { file } = ASSETS[name]!;
      const path =
        typeof file === 'string' ? fileURLToPath(import.meta.resolve(file)) : fileURLToPath(file);
      assets.set(name, (content = readFileSync(path)));
    }
    return content;
  };

  for (const page of PAGES) {
    app.get(page, open, (_request, reply) => reply.type('text/html; charset=utf-8').send(SHELL));
  }
  app.get('/assets/:file', open, (request, reply) => {
    const { file } = request.params as { file: string };
    const known = ASSETS[file];
    if (!Object.hasOwn(ASSETS, file) || known === undefined) return reply.callNotFound();
    // The files change only with a new release; a slow machine loads them once per session.
    return reply.type(known.type).header('cache-control', 'max-age=300').send(asset(file));
  });

  // Public: says whether the caller (header or cookie) may use the console, so that the page
  // shows its login form instead of making requests that fail.
  app.get('/session', open, async (request) => {
    if (authenticator.mode === 'none') return { authenticated: true, mode: authenticator.mode };
    try {
      const principal = await authenticator.authenticate(request.headers);
      return {
        authenticated: principal.scopes.has('ops'),
        subject: principal.subject,
        mode: authenticator.mode,
      };
    } catch {
      return { authenticated: false, mode: authenticator.mode };
    }
  });
  app.post('/session', open, async (request, reply) => {
    const { token } = parseInput(sessionBody, request.body);
    const principal = await authenticator.authenticate({ authorization: `Bearer ${token}` });
    if (!principal.scopes.has('ops')) throw insufficientScope('ops');
    return reply
      .header(
        'set-cookie',
        `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`,
      )
      .send({ authenticated: true, subject: principal.subject });
  });
  app.delete('/session', open, (_request, reply) =>
    reply
      .header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`)
      .send({ authenticated: false }),
  );

  app.get('/api/console/config', ops, (request) => ({
    // The token's own tenant first: with AUTH_MODE=oidc the only one its alerts and orders show.
    tenants: [
      ...new Set([
        ...(request.principal?.tenantId === undefined ? [] : [request.principal.tenantId]),
        ...settings.tenants,
      ]),
    ],
    pollMs: settings.pollMs,
    stuckOrderMs: settings.stuckOrderMs,
    deadLetterTopics,
    authMode: authenticator.mode,
  }));
  app.get('/api/console/overview', ops, () => options.overview.current());
  app.get('/api/console/topics', ops, () => options.kafka.read());

  const listQuery = dlqQuery(deadLetterTopics);
  app.get('/api/console/dead-letters', ops, async (request) => {
    const q = parseInput(listQuery, request.query, 'query');
    const topic = q.topic ?? deadLetterTopics[0]!;
    const tenant = boundTenant(request, q.tenant);
    const items = await listDeadLetters(
      conn,
      topic,
      {
        ...(q.code === undefined ? {} : { code: q.code }),
        ...(q.event_type === undefined ? {} : { eventType: q.event_type }),
        ...(tenant === undefined ? {} : { tenant }),
        ...(q.since === undefined ? {} : { since: new Date(q.since) }),
        ...(q.until === undefined ? {} : { until: new Date(q.until) }),
      },
      q.limit,
    );
    return { topic, items };
  });
  const showQuery = z.strictObject({
    topic: z.enum(deadLetterTopics as [string, ...string[]]).optional(),
  });
  app.get('/api/console/dead-letters/:partition/:offset', ops, async (request) => {
    const p = parseInput(position, request.params, 'params');
    const q = parseInput(showQuery, request.query, 'query');
    const topic = q.topic ?? deadLetterTopics[0]!;
    const tenant = request.principal?.tenantId;
    return showDeadLetter(conn, topic, p.partition, BigInt(p.offset), tenant);
  });
  const redrive = redriveBody(deadLetterTopics);
  app.post('/api/console/dead-letters/redrive', ops, async (request) => {
    const body = parseInput(redrive, request.body);
    const topic = body.topic ?? deadLetterTopics[0]!;
    // A tenant's operator redrives that tenant's dead letters only; others in the selection
    // are not matched (as positions that hold nothing).
    const tenant = request.principal?.tenantId;
    const run = (dryRun: boolean) =>
      redriveDeadLetters(conn, topic, body.positions, dryRun, tenant);
    if (body.dry_run) return { dry_run: true, ...(await run(true)) };
    // The confirmation names what the preview showed: if the selection now matches a different
    // number of dead letters (one was removed by retention), nothing is sent.
    if (body.expected !== undefined) {
      const preview = await run(true);
      if (preview.count !== body.expected) {
        throw new AppError(
          ConsoleErrorCodes.PREVIEW_MISMATCH,
          `the preview showed ${body.expected} dead letter(s), the selection now matches ${preview.count}: preview again`,
          { retryable: false, context: { expected: body.expected, now: preview.count } },
        );
      }
    }
    return { dry_run: false, ...(await run(false)) };
  });

  const salesGet = async (
    request: FastifyRequest,
    path: string,
    tenantId: string,
  ): Promise<unknown> => {
    const res = await upstream.get('sales', `${settings.salesUrl}${path}`, {
      tenant: tenantId,
      scope: 'sales:read',
      operator: operatorOf(request),
    });
    if (res.status !== 200)
      throw upstreamError('sales', `GET ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
    return JSON.parse(res.text) as unknown;
  };
  app.get('/api/console/alerts', ops, async (request) => {
    const q = parseInput(tenantQuery, request.query, 'query');
    return salesGet(
      request,
      `/api/v1/alerts?limit=500${q.status === undefined ? '' : `&status=${q.status}`}`,
      q.tenant,
    );
  });
  app.get('/api/console/alerts/:id', ops, async (request) => {
    const { id } = parseInput(z.strictObject({ id: z.uuid() }), request.params, 'params');
    const q = parseInput(tenantQuery, request.query, 'query');
    return salesGet(request, `/api/v1/alerts/${id}`, q.tenant);
  });
  // Replay dry runs run in Sales (POST /api/v1/ops/replays: the CLI's dry run over Sales' own
  // database); the console relays them as the operator's ops request. Sales' answers, its coded
  // refusals included (409 one at a time, 422 too large, 400, 404), pass through with their
  // status; a credential Sales refuses or a failure of Sales is the console's 502.
  const salesOps = async (
    reply: FastifyReply,
    path: string,
    request: FastifyRequest,
    body?: unknown,
  ) => {
    const url = `${settings.salesUrl}${path}`;
    const as = {
      scope: 'ops',
      operator: operatorOf(request),
    };
    const res =
      body === undefined
        ? await upstream.get('sales', url, as)
        : await upstream.post('sales', url, body, as);
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || res.status >= 500 || res.status === 401 || res.status === 403) {
      throw upstreamError(
        'sales',
        `${body === undefined ? 'GET' : 'POST'} ${path} answered ${res.status}: ${res.text.slice(0, 300)}`,
      );
    }
    return reply.code(res.status).send(parsed);
  };
  app.post('/api/console/replays', ops, async (request, reply) => {
    const body = parseInput(replayBody, request.body);
    // Sales would refuse it too, but its 403 reads here as a refused credential (502).
    boundTenant(request, body.tenant);
    return salesOps(reply, '/api/v1/ops/replays', request, body);
  });
  app.get('/api/console/replays/:id', ops, async (request, reply) => {
    const { id } = parseInput(z.strictObject({ id: z.uuid() }), request.params, 'params');
    return salesOps(reply, `/api/v1/ops/replays/${id}`, request);
  });

  app.get('/api/console/orders', ops, async (request) => {
    const q = parseInput(tenantQuery.omit({ status: true }), request.query, 'query');
    const body = (await salesGet(request, '/api/v1/orders?limit=500', q.tenant)) as {
      items?: unknown[];
    };
    const now = Date.now();
    const items = (body.items ?? []).map((raw) => {
      const order = raw as Record<string, unknown>;
      const status = typeof order['status'] === 'string' ? order['status'] : 'unknown';
      const stamp = order['updated_at'] ?? order['created_at'];
      const since = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
      const ageMs = Number.isNaN(since) ? undefined : now - since;
      const stuck =
        !FINAL_ORDER_STATES.has(status.toLowerCase()) &&
        ageMs !== undefined &&
        ageMs > settings.stuckOrderMs;
      return { ...order, status, age_ms: ageMs ?? null, stuck };
    });
    return { items, stuck_after_ms: settings.stuckOrderMs };
  });
}

/** Ops token from the session cookie when the request has no Authorization header. */
export function withSessionCookie(authenticator: Authenticator): Authenticator {
  return {
    ...authenticator,
    authenticate(headers) {
      const authorization = authorizationOf(headers);
      return authenticator.authenticate(
        authorization === headers.authorization ? headers : { ...headers, authorization },
      );
    },
  };
}

/**
 * The tenant whose dead letters or replays a request may see: an ops token bound to a tenant (a
 * tenant's operator) sees its own only, since they hold its events; naming another is refused.
 * A token bound to none (the platform's operator) sees what it asks for.
 */
function boundTenant(request: FastifyRequest, asked: string | undefined): string | undefined {
  const bound = request.principal?.tenantId;
  if (bound === undefined) return asked;
  if (asked !== undefined && asked !== bound) throw otherTenantError(asked, bound);
  return bound;
}

/** The operator behind a request, as the upstream forwards them in AUTH_MODE=oidc. */
function operatorOf(request: FastifyRequest): Operator {
  return { principal: request.principal, authorization: authorizationOf(request.headers) };
}

/** The Authorization header, else the session cookie's token as one (what AUTH_MODE=oidc forwards). */
function authorizationOf(headers: IncomingHttpHeaders): string | undefined {
  if (headers.authorization !== undefined || typeof headers.cookie !== 'string') {
    return headers.authorization;
  }
  const token = cookie(headers.cookie, SESSION_COOKIE);
  return token === undefined ? undefined : `Bearer ${token}`;
}

function cookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name && v.length > 0 && v.join('=') !== '') return v.join('=');
  }
  return undefined;
}

// Scripts are files, not inline, so that a Content-Security-Policy without 'unsafe-inline' holds.
const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>erp-events console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/console.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<strong>erp-events console</strong>
<nav aria-label="Pages">
<a href="/">Overview</a>
<a href="/dead-letters">Dead letters</a>
<a href="/alerts">Alerts</a>
<a href="/orders">Orders</a>
<a href="/topics">Topics</a>
<a href="/replay">Replay</a>
</nav>
<span id="status" role="status" aria-live="polite"></span>
</header>
<main id="main" tabindex="-1"></main>
<script src="/assets/uPlot.iife.min.js"></script>
<script src="/assets/console.js" type="module"></script>
</body>
</html>
`;
