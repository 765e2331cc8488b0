/**
 * `npm run -s cli -- auth token --tenant <t> [--scope "<scopes>"] [--ttl 1h]`: a token of the
 * development issuer (DATA_DIR/auth/dev-issuer.json, the one `npm start` uses without
 * AUTH_ISSUER_URL), alone on stdout so that scripts can use it:
 *   TOKEN=$(npm run -s cli -- auth token --tenant acme)
 */
import { loadConfig, loadDevIssuer, SCOPES } from '../platform/index.ts';
import type { Output } from './dlq.ts';
import { parseCommand } from './args.ts';
import { usageError } from './errors.ts';

export const AUTH_USAGE = `Usage: npm run -s cli -- auth token --tenant <tenant> [options]

Prints a bearer token of the development issuer (the default of npm start without
AUTH_ISSUER_URL; its key is DATA_DIR/auth/dev-issuer.json), alone on stdout.

Options:
  --tenant <id>       the tenant the token acts for (omit with --scope ops for an operator)
  --scope "<scopes>"  space-separated (default: "${SCOPES.filter((s) => s !== 'ops').join(' ')}")
                      known: ${SCOPES.join(', ')}
  --ttl <duration>    lifetime: 90s, 30m, 1h, 7d (default 1h, at most 30d)
  --subject <sub>     the token's sub (default: cli)
  -h, --help          this text`;

const MAX_TTL_SECONDS = 30 * 86_400;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export async function authCommand(
  argv: string[],
  output: Output,
  env: Record<string, string | undefined> | undefined,
): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      tenant: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string' },
      subject: { type: 'string' },
    },
    AUTH_USAGE,
    (line) => output.out(line),
  );
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  if (positionals[0] !== 'token' || positionals.length > 1) {
    throw usageError(
      `auth needs "token"${positionals[0] === undefined ? '' : `, got "${positionals.join(' ')}"`}`,
    );
  }
  const scopes = (values.scope ?? SCOPES.filter((s) => s !== 'ops').join(' '))
    .split(' ')
    .filter((s) => s !== '');
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0 || scopes.length === 0) {
    throw usageError(`--scope takes some of ${SCOPES.join(', ')}; got "${values.scope ?? ''}"`);
  }
  if (values.tenant === undefined && scopes.some((s) => s !== 'ops')) {
    throw usageError('--tenant is required unless --scope is "ops"');
  }
  const ttl = parseTtl(values.ttl ?? '1h');

  const config = loadConfig(env);
  if (config.auth.mode !== 'dev') {
    throw usageError(
      `the services take tokens of ${config.auth.mode === 'oidc' ? `the issuer at ${config.auth.issuerUrl ?? ''}` : 'nobody (AUTH_MODE=none)'}, not of the development issuer`,
    );
  }
  const issuer = await loadDevIssuer(config.dataDir);
  const token = await issuer.sign(
    {
      sub: values.subject ?? 'cli',
      scope: scopes.join(' '),
      ...(values.tenant === undefined ? {} : { [config.auth.tenantClaim]: values.tenant }),
    },
    config.auth.audience,
    ttl,
  );
  output.out(token);
  return 0;
}

function parseTtl(text: string): number {
  const match = /^(\d{1,7})([smhd])$/.exec(text);
  const seconds = match === null ? NaN : Number(match[1]) * UNIT_SECONDS[match[2]!]!;
  if (!(seconds >= 1 && seconds <= MAX_TTL_SECONDS)) {
    throw usageError(
      `--ttl must be a duration like 90s, 30m, 1h or 7d (at most 30d), got "${text}"`,
    );
  }
  return seconds;
}
