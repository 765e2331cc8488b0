// Authentication: who a request acts for (tenant, scopes), from a verified bearer token.
export { createAuthenticator, headerTenancy } from './authenticator.ts';
export type { Authenticator, AuthMode, AuthSettings } from './authenticator.ts';
export { DEV_ISSUER, loadDevIssuer } from './dev-issuer.ts';
export type { DevIssuer } from './dev-issuer.ts';
export { challengeFor, insufficientScope, noTenant } from './errors.ts';
export { SCOPES } from './principal.ts';
export type { Principal, Scope } from './principal.ts';
