import { AppError, PlatformErrorCodes } from '../platform/index.ts';

/**
 * `name` when it is a plain lower-case SQL identifier. The outbox and inbox DDL interpolate table
 * names, so anything else is refused at start.
 */
export function tableName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new AppError(
      PlatformErrorCodes.INVALID_OPTIONS,
      `invalid table name "${name}": lower-case letters, digits and _ only`,
      { context: { field: 'table' } },
    );
  }
  return name;
}
