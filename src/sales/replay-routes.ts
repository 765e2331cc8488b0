/**
 * Sales' ops routes for replay dry runs (replay-runner.ts): the `ops` scope. An ops token bound
 * to no tenant (the platform's operator, the console's in AUTH_MODE=dev) may replay every tenant
 * or name one; a token bound to a tenant replays that tenant only and sees only its own dry runs
 * (another's id answers as a missing one), since a dry run's differences name products and
 * alerts. The console relays them.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../platform/index.ts';
import type { RouteDocs } from '../platform/index.ts';
import { replayNotFound, replayOtherTenant, SalesErrorCodes } from './errors.ts';
import type { ReplayRunner } from './replay-runner.ts';
import { replayBodySchema, replayResponse } from './schemas.ts';

const C = SalesErrorCodes;

const DOCS = {
  startReplay: {
    summary: 'Start a replay dry run',
    description:
      "What `npm run cli -- replay` does without --apply, run inside Sales over its own database: a shadow Sales on a throwaway database consumes the inventory topic's range and is compared with live Sales. Nothing live changes. One at a time (409 ERP_SALES_REPLAY_BUSY), at most SALES_REPLAY_MAX_EVENTS records (422 ERP_SALES_REPLAY_TOO_LARGE); GET it to follow. `from`/`to`: an ISO-8601 time or partition:offset pairs, as the CLI's --from/--to.",
    tag: 'ops',
    body: replayBodySchema,
    example: { from: '2024-01-15T10:00:00Z', tenant: 'tenant-1' },
    responses: { 202: { description: 'Started: state running', schema: replayResponse } },
    errors: [C.REPLAY_BUSY, C.REPLAY_TOO_LARGE, C.REPLAY_OTHER_TENANT],
  },
  getReplay: {
    summary: 'A replay dry run: its progress, then its summary and first 50 differences',
    tag: 'ops',
    params: z.strictObject({ id: z.uuid() }),
    responses: {
      200: { description: 'running, done or failed', schema: replayResponse },
    },
    errors: [C.REPLAY_NOT_FOUND],
  },
} satisfies Record<string, RouteDocs>;

export function registerReplayRoutes(app: FastifyInstance, replays: ReplayRunner): void {
  const route = (docs: RouteDocs) => ({ config: { access: 'ops', docs } }) as const;
  app.post('/api/v1/ops/replays', route(DOCS.startReplay), async (request, reply) => {
    const body = parseInput(DOCS.startReplay.body, request.body);
    const bound = request.principal?.tenantId;
    if (bound !== undefined && body.tenant !== undefined && body.tenant !== bound) {
      throw replayOtherTenant(bound);
    }
    const started = await replays.start(bound === undefined ? body : { ...body, tenant: bound });
    return reply.code(202).header('location', `/api/v1/ops/replays/${started.id}`).send(started);
  });
  app.get('/api/v1/ops/replays/:id', route(DOCS.getReplay), (request) => {
    const { id } = parseInput(DOCS.getReplay.params, request.params, 'params');
    const replay = replays.get(id);
    const bound = request.principal?.tenantId;
    if (replay === undefined || (bound !== undefined && replay.request.tenant !== bound)) {
      throw replayNotFound(id);
    }
    return replay;
  });
}
