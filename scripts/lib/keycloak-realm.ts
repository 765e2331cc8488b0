/**
 * The realm the local Keycloak imports at start: the services' scopes as client scopes, and one
 * confidential client per caller (client credentials), each with a hard-coded tenant claim and
 * the services' audience. Secrets are random per start and written only under .data.
 */
import { createHash, randomBytes } from 'node:crypto';

export const REALM = 'erp';
export const AUDIENCE = 'erp-events';
const API_SCOPES = ['inventory:read', 'inventory:write', 'sales:read', 'sales:write'];

export interface RealmClient {
  clientId: string;
  secret: string;
  /** The tenant its tokens carry; none for an operator. */
  tenant?: string;
  scopes: string[];
  /** Its tokens' lifetime, when not the realm's 300 s (a token that expires while a test waits). */
  tokenLifespanSeconds?: number;
}

/** The callers tests and a user by hand can get tokens for. */
export function realmClients(): Record<string, RealmClient> {
  const secret = () => randomBytes(24).toString('base64url');
  return {
    tenantA: { clientId: 'tenant-a-app', secret: secret(), tenant: 'tenant-a', scopes: API_SCOPES },
    tenantB: { clientId: 'tenant-b-app', secret: secret(), tenant: 'tenant-b', scopes: API_SCOPES },
    tenantAReader: {
      clientId: 'tenant-a-reader',
      secret: secret(),
      tenant: 'tenant-a',
      scopes: ['inventory:read', 'sales:read'],
    },
    ops: { clientId: 'ops-app', secret: secret(), scopes: ['ops'] },
    // An operator of tenant A, as the console in AUTH_MODE=oidc needs one: `ops` for the console
    // and the services' /metrics, read scopes and the tenant claim for A's alerts and orders,
    // which the console reads with this very token.
    tenantAOperator: {
      clientId: 'tenant-a-operator',
      secret: secret(),
      tenant: 'tenant-a',
      scopes: ['ops', 'inventory:read', 'sales:read'],
    },
    // An operator whose tokens expire after 2 s: an expired token of the real issuer.
    opsShortLived: {
      clientId: 'ops-short-lived',
      secret: secret(),
      scopes: ['ops'],
      tokenLifespanSeconds: 2,
    },
  };
}

/**
 * A digest of the realm with its secrets left out: a running Keycloak that imported another
 * realm (an older checkout's, without a client added since) is restarted, not reused.
 */
export function realmVersion(): string {
  const clients = Object.fromEntries(
    Object.entries(realmClients()).map(([k, c]) => [k, { ...c, secret: '' }]),
  );
  return createHash('sha256')
    .update(JSON.stringify(realmJson(clients)))
    .digest('hex')
    .slice(0, 16);
}

export function realmJson(clients: Record<string, RealmClient>): unknown {
  return {
    realm: REALM,
    enabled: true,
    accessTokenLifespan: 300,
    clientScopes: [...API_SCOPES, 'ops'].map((name) => ({
      name,
      protocol: 'openid-connect',
      attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false' },
    })),
    clients: Object.values(clients).map((c) => ({
      clientId: c.clientId,
      enabled: true,
      protocol: 'openid-connect',
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      secret: c.secret,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      fullScopeAllowed: false,
      ...(c.tokenLifespanSeconds === undefined
        ? {}
        : { attributes: { 'access.token.lifespan': String(c.tokenLifespanSeconds) } }),
      defaultClientScopes: c.scopes,
      optionalClientScopes: [],
      protocolMappers: [
        {
          name: 'audience',
          protocol: 'openid-connect',
          protocolMapper: 'oidc-audience-mapper',
          config: {
            'included.custom.audience': AUDIENCE,
            'access.token.claim': 'true',
            'id.token.claim': 'false',
          },
        },
        ...(c.tenant === undefined
          ? []
          : [
              {
                name: 'tenant',
                protocol: 'openid-connect',
                protocolMapper: 'oidc-hardcoded-claim-mapper',
                config: {
                  'claim.name': 'tenant_id',
                  'claim.value': c.tenant,
                  'jsonType.label': 'String',
                  'access.token.claim': 'true',
                  'id.token.claim': 'false',
                  'userinfo.token.claim': 'false',
                },
              },
            ]),
      ],
    })),
    users: Object.values(clients).map((c) => ({
      username: `service-account-${c.clientId}`,
      enabled: true,
      serviceAccountClientId: c.clientId,
    })),
  };
}
