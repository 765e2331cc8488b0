/** Who a request acts for, once its token is verified: a tenant, a subject and their scopes. */

/** The scopes the services know. A route needs one; `ops` covers /metrics and operator endpoints. */
export const SCOPES = [
  'inventory:read',
  'inventory:write',
  'sales:read',
  'sales:write',
  'ops',
] as const;

export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The tenant every query of the request is scoped to; undefined for a token bound to none (ops). */
  tenantId: string | undefined;
  /** The token's `sub` (or the client id): for logs, never for access decisions. */
  subject: string;
  scopes: ReadonlySet<string>;
}

/** Tenant ids: what may appear in a token's tenant claim or, with AUTH_MODE=none, X-Tenant-ID. */
export const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
