/**
 * The development issuer: what `npm start` uses when no AUTH_ISSUER_URL is set, so the system
 * runs with real tokens and no identity provider. One ES256 key pair, generated on first use
 * under DATA_DIR (auth/dev-issuer.json, mode 0600), signs the tokens that `npm run cli -- auth
 * token` prints; the services verify them with its public half and serve it as a JWKS.
 *
 * Not for production: whoever can read DATA_DIR can mint any tenant's token.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { AppError, PlatformErrorCodes } from '../errors.ts';

/** The `iss` of development tokens. */
export const DEV_ISSUER = 'urn:erp-events:dev-issuer';
const ALG = 'ES256';

export interface DevIssuer {
  issuer: string;
  keyFile: string;
  /** The public key as a JWKS, to serve and to verify with. */
  jwks: JSONWebKeySet;
  keys: JWTVerifyGetKey;
  /** Signs a token for `audience` with these claims, valid for `ttlSeconds`. */
  sign(claims: Record<string, unknown>, audience: string, ttlSeconds: number): Promise<string>;
}

const keyFileShape = z.object({
  kid: z.string().min(1),
  privateJwk: z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), d: z.string() }),
});

/** The development issuer of `dataDir`, creating its key pair on first use. */
export async function loadDevIssuer(dataDir: string): Promise<DevIssuer> {
  const keyFile = join(dataDir, 'auth', 'dev-issuer.json');
  const stored = keyFileShape.safeParse(await readKeyFile(keyFile));
  if (!stored.success) {
    throw new AppError(
      PlatformErrorCodes.AUTH_DEV_KEY,
      `${keyFile} is not a development issuer key; delete it to have a new one made`,
    );
  }
  const { kid, privateJwk } = stored.data;
  const { d: _private, ...publicJwk } = privateJwk;
  const jwk: JWK = { ...publicJwk, kid, alg: ALG, use: 'sig' };
  const jwks: JSONWebKeySet = { keys: [jwk] };
  const privateKey = await importJWK(privateJwk, ALG);
  return {
    issuer: DEV_ISSUER,
    keyFile,
    jwks,
    keys: createLocalJWKSet(jwks),
    sign: (claims, audience, ttlSeconds) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
        .setIssuer(DEV_ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey),
  };
}

async function readKeyFile(keyFile: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(keyFile, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  await createKeyFile(keyFile);
  return JSON.parse(await readFile(keyFile, 'utf8'));
}

/**
 * Both services (and the CLI) may start at once: the key is written to a file of its own and
 * linked into place, which fails if another process got there first; then everybody reads the
 * one that won, complete.
 */
async function createKeyFile(keyFile: string): Promise<void> {
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const content = JSON.stringify({ kid: randomUUID(), privateJwk: await exportJWK(privateKey) });
  const temp = `${keyFile}.${process.pid}.${randomUUID()}`;
  await writeFile(temp, content, { mode: 0o600 });
  try {
    await link(temp, keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(temp);
  }
}
