/**
 * Tokens of the shared local Keycloak (scripts/keycloak.ts) for tests: by client credentials at
 * its token endpoint, one per realm client, reused while it lives (the realm's tokens live 300 s,
 * longer than a test file runs).
 */
import assert from 'node:assert/strict';
import type { KeycloakInfo } from '../../scripts/keycloak.ts';

export type RealmClientName = keyof KeycloakInfo['clients'];

const tokens = new Map<string, Promise<string>>();

/** A fresh access token of `client` (never cached: e.g. one that is to expire). */
export async function newKeycloakToken(
  keycloak: KeycloakInfo,
  client: RealmClientName,
): Promise<string> {
  const realmClient = keycloak.clients[client];
  assert.ok(realmClient, `the realm has no client "${client}"`);
  const { clientId, secret } = realmClient;
  const res = await fetch(keycloak.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
    }),
  });
  assert.equal(res.status, 200, `token for ${clientId}: ${await res.clone().text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** An access token of `client`, fetched once per test process. */
export function keycloakToken(keycloak: KeycloakInfo, client: RealmClientName): Promise<string> {
  const key = `${keycloak.tokenUrl}\u0000${client}`;
  let token = tokens.get(key);
  if (token === undefined) {
    token = newKeycloakToken(keycloak, client);
    tokens.set(key, token);
    token.catch(() => tokens.delete(key));
  }
  return token;
}

/** `{ authorization: 'Bearer …' }` of `client`. */
export async function keycloakHeaders(
  keycloak: KeycloakInfo,
  client: RealmClientName,
): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await keycloakToken(keycloak, client)}` };
}
