/**
 * The realm the local Keycloak imports at start: the services' scopes as client scopes, and one
 * confidential client per caller (client credentials), each with a hard-coded tenant claim and
 * the services' audience. Secrets are random per start and written only under .data.
 */
import { randomBytes } from 'node:crypto';

export const REALM = 'erp';
export const AUDIENCE = 'erp-events';
const API_SCOPES = ['inventory:read', 'inventory:write', 'sales:read', 'sales:write'];

export interface RealmClient {
  clientId: string;
  secret: string;
  /** The tenant its tokens carry; none for an operator. */
  tenant?: string;
  scopes: string[];
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
  };
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
