/**
 * Options objects of components (relay, consumer, dispatcher, retry policy) are validated when
 * the component is created, so that a bad setting fails at start naming the field instead of
 * misbehaving under load.
 */
import type { z } from 'zod';
import { AppError, PlatformErrorCodes } from './errors.ts';

/**
 * `input` parsed by `schema` (defaults applied); throws ERP_INVALID_OPTIONS naming `what` and the
 * first bad field, e.g. `invalid outbox relay options: batchSize: Too small: expected number to be >=1`.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  // An unknown key (a misspelt option) is reported at the object, naming the key.
  const unknownKey = first?.code === 'unrecognized_keys' ? first.keys[0] : undefined;
  const field = [...(first?.path ?? []), ...(unknownKey === undefined ? [] : [unknownKey])]
    .map(String)
    .join('.');
  throw new AppError(
    PlatformErrorCodes.INVALID_OPTIONS,
    `invalid ${what} options: ${field === '' ? '' : `${field}: `}${first?.message ?? 'invalid'}`,
    { context: { options: what, field } },
  );
}
