/** Reading a request: its tenant and its validated input, refused with a 400 code naming the field. */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError, PlatformErrorCodes } from '../errors.ts';
import { missingTenantOf } from './access.ts';

/**
 * The tenant of a request: its verified principal's (see access.ts), never a header the caller
 * chose, except with AUTH_MODE=none. Throws when the principal names no tenant.
 */
export function tenantOf(request: FastifyRequest): string {
  const tenantId = request.principal?.tenantId;
  if (tenantId !== undefined) return tenantId;
  const why = missingTenantOf(request);
  // A route that reads a tenant but was declared public: a bug of the route, not the caller's.
  if (why === undefined) throw new AppError(PlatformErrorCodes.INTERNAL, 'route has no principal');
  throw why();
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
  // An unknown key is reported at its object: name the key itself.
  const path = [
    ...(first?.path ?? []),
    ...(first?.code === 'unrecognized_keys' ? first.keys.slice(0, 1) : []),
  ];
  const field = path.length === 0 ? what : path.map(String).join('.');
  throw new AppError(
    PlatformErrorCodes.HTTP_INVALID_INPUT,
    `invalid ${what}: ${field}: ${first?.message ?? 'invalid'}`,
    {
      context: {
        field,
        issues: result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
      },
    },
  );
}
