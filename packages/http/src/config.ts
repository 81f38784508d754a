import path from 'node:path';
import type { AccessTokenFormat } from '@pos-auth/domain';
import { defaultAccessTokenAudience } from '@pos-auth/infrastructure';
import { z } from 'zod';

export interface ClientSeed {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absent: the embedded PostgreSQL in `dataDir`. */
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly authClients: readonly ClientSeed[];
  readonly accessTokenFormat: AccessTokenFormat;
  /**
   * False only to measure what the event log's hash chain and sealed personal data cost
   * (`pnpm bench`): unchained events fail `audit verify`, and fields written in clear cannot be erased.
   */
  readonly eventLogIntegrity: boolean;
  readonly accessTokenTtlSeconds: number;
  /** The `aud` of JWT access tokens. */
  readonly accessTokenAudience: string;
  /** A private JWK Set whose first key signs JWT access tokens; null: keys generated into the database. */
  readonly accessTokenSigningKeys: string | null;
  readonly refreshTokenTtlSeconds: number;
  readonly sessionMaxAgeSeconds: number;
  /** 0: a rotated refresh token is never accepted again. */
  readonly refreshReuseGraceSeconds: number;
  readonly loginFailureLimit: number;
  /** 0: no per-IP limit. */
  readonly rateLimitIpPerMinute: number;
  /** The public base URL, for RFC 8414 metadata. */
  readonly issuer: string;
  readonly corsOrigins: readonly string[];
  readonly logLevel: string;
  readonly trustProxy: string | false;
  /** `/metrics` on a port of its own; null: on `port`, beside the API. */
  readonly metricsPort: number | null;
  /** The Bearer token `/metrics` asks for; null: none. */
  readonly metricsToken: string | null;
}

const wholeNumberText = (min: number, unit: string) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number${unit}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}${unit}`).max(2 ** 31 - 1, `must be at most 2147483647${unit}`));

const wholeNumber = (fallback: number, min: number, unit: string) => wholeNumberText(min, unit).default(fallback);

const wholeSeconds = (fallback: number, min = 1) => wholeNumber(fallback, min, ' of seconds');

const decodePart = (part: string, what: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(`AUTH_CLIENTS: the ${what} "${part}" is not valid percent-encoding`);
  }
};

/** `id:secret` pairs, comma-separated; each splits at its first colon and both parts are percent-decoded. */
export const parseAuthClients = (raw: string): ClientSeed[] =>
  raw
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair, index) => {
      const colon = pair.indexOf(':');
      if (colon <= 0 || colon === pair.length - 1) {
        // The entry may hold a secret: name it by position, never echo it.
        throw new Error(`AUTH_CLIENTS: entry ${index + 1} is not an id:secret pair`);
      }
      return {
        clientId: decodePart(pair.slice(0, colon), 'client id'),
        clientSecret: decodePart(pair.slice(colon + 1), 'secret of a client'),
      };
    });

const origin = z.string().refine((value) => {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, 'each origin must look like https://admin.example.com (scheme, host, optional port; no path)');

const port = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(0).max(65535, 'must be at most 65535'));

const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).optional(),
  AUTH_CLIENTS: z.string().default(''),
  ACCESS_TOKEN_FORMAT: z.enum(['opaque', 'jwt'], { error: 'must be opaque or jwt' }).default('opaque'),
  EVENT_LOG_INTEGRITY: z.enum(['on', 'off-for-benchmarks'], { error: 'must be on or off-for-benchmarks' }).default('on'),
  // Its default depends on the format (see accessTokenTtlDefaults).
  ACCESS_TOKEN_TTL: wholeNumberText(1, ' of seconds').optional(),
  ACCESS_TOKEN_AUDIENCE: z
    .string()
    .regex(/^[\x21-\x7e]+$/u, 'must be printable ASCII without spaces')
    .default(defaultAccessTokenAudience),
  ACCESS_TOKEN_SIGNING_KEYS: z.string().optional(),
  REFRESH_TOKEN_TTL: wholeSeconds(14 * 24 * 60 * 60),
  SESSION_MAX_AGE: wholeSeconds(30 * 24 * 60 * 60),
  REFRESH_REUSE_GRACE: wholeSeconds(10, 0),
  LOGIN_FAILURE_LIMIT: wholeNumber(5, 1, ''),
  RATE_LIMIT_IP_PER_MINUTE: wholeNumber(600, 0, ''),
  ISSUER: z
    .string()
    .refine((value) => {
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, 'must be an http:// or https:// URL')
    .transform((value) => value.replace(/\/+$/u, ''))
    .optional(),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0))
    .pipe(z.array(origin)),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' })
    .default('info'),
  TRUST_PROXY: z.string().optional(),
  METRICS_PORT: port.optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters long').optional(),
}).refine((values) => values.METRICS_PORT === undefined || values.METRICS_PORT === 0 || values.METRICS_PORT !== values.PORT, {
  path: ['METRICS_PORT'],
  message: 'must differ from PORT (leave it unset to serve /metrics on PORT)',
});

export class ConfigError extends Error {}

/**
 * `ACCESS_TOKEN_TTL` unless set: the original server's 30 minutes for opaque tokens, which every
 * check looks up; 5 minutes for JWTs, which resource servers accept without asking the service
 * until they expire, so a revocation reaches them only then.
 */
export const accessTokenTtlDefaults: Record<AccessTokenFormat, number> = { opaque: 1800, jwt: 300 };

/** `DATA_DIR`'s default when the service is run by root. */
export const defaultRootDataDir = '/var/lib/pos-auth';

/**
 * Reads the configuration from environment variables and validates every value, so that a bad one
 * stops the start with a message naming it rather than failing later.
 *
 * @example
 * const config = loadConfig({ PORT: '8080', AUTH_CLIENTS: 'admin-panel:s3cret' });
 */
export const loadConfig = (
  env: Readonly<Record<string, string | undefined>> = process.env,
  host: { readonly runByRoot: boolean } = { runByRoot: process.getuid?.() === 0 },
): Config => {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const values = parsed.data;
  let authClients: ClientSeed[];
  try {
    authClients = parseAuthClients(values.AUTH_CLIENTS);
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ${(error as Error).message}`);
  }
  const base = env['INIT_CWD'] ?? process.cwd();
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: values.DATABASE_URL ?? null,
    // Run by root, the embedded PostgreSQL runs as the "postgres" system user, which must reach
    // the directory: a checkout under /root would not do, so root's default is a system path.
    dataDir: path.resolve(base, values.DATA_DIR ?? (host.runByRoot ? defaultRootDataDir : '.data')),
    authClients,
    accessTokenFormat: values.ACCESS_TOKEN_FORMAT,
    eventLogIntegrity: values.EVENT_LOG_INTEGRITY === 'on',
    accessTokenTtlSeconds: values.ACCESS_TOKEN_TTL ?? accessTokenTtlDefaults[values.ACCESS_TOKEN_FORMAT],
    accessTokenAudience: values.ACCESS_TOKEN_AUDIENCE,
    accessTokenSigningKeys: values.ACCESS_TOKEN_SIGNING_KEYS ?? null,
    refreshTokenTtlSeconds: values.REFRESH_TOKEN_TTL,
    sessionMaxAgeSeconds: values.SESSION_MAX_AGE,
    refreshReuseGraceSeconds: values.REFRESH_REUSE_GRACE,
    loginFailureLimit: values.LOGIN_FAILURE_LIMIT,
    rateLimitIpPerMinute: values.RATE_LIMIT_IP_PER_MINUTE,
    issuer: values.ISSUER ?? `http://localhost:${values.PORT}`,
    corsOrigins: values.CORS_ORIGINS,
    logLevel: values.LOG_LEVEL,
    trustProxy: values.TRUST_PROXY ?? false,
    metricsPort: values.METRICS_PORT ?? null,
    metricsToken: values.METRICS_TOKEN ?? null,
  };
};
