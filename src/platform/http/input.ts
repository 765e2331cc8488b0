/** Reading a request: its tenant and its validated input, refused with a 400 code naming the field. */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError, PlatformErrorCodes } from '../errors.ts';

const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** The tenant of a request, from X-Tenant-ID until authentication arrives. */
export function tenantOf(request: FastifyRequest): string {
  const raw = request.headers['x-tenant-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') {
    throw new AppError(
      PlatformErrorCodes.HTTP_MISSING_TENANT,
      'the X-Tenant-ID header is required',
    );
  }
  if (!TENANT_PATTERN.test(value)) {
    throw new AppError(
      PlatformErrorCodes.HTTP_INVALID_TENANT,
      'X-Tenant-ID must be 1-128 characters of A-Z a-z 0-9 . _ -',
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
