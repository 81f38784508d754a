import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { PosAuthClientCredentials } from '../credentials.js';
import type { PosAuthRole } from '../rest-client.js';
import { createIntrospectionClient, type ActiveIntrospection, type IntrospectionCacheOptions } from './introspection.js';
import { AccessTokenRefusal } from './refusal.js';

/** Who called, once their access token was accepted. */
export interface PosAuthPrincipal {
  /** The user's id (`sub`). */
  readonly userId: string;
  /** The user's role when the token was issued (a JWT) or now (introspection). */
  readonly role: PosAuthRole;
  /** The session the token belongs to (`sid`). */
  readonly sessionId: string;
  /** The OAuth client the user logged in with (`client_id`). */
  readonly clientId: string;
  readonly scope: string | null;
  /** Epoch seconds. */
  readonly issuedAt: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** How the token was checked: a JWT verified here with pos-auth's keys, or an opaque token introspected by pos-auth. */
  readonly verifiedBy: 'jwt' | 'introspection';
}

export interface AccessTokenVerifierOptions {
  /**
   * pos-auth's issuer (its `ISSUER`): a JWT's `iss` must be exactly this (a trailing slash is
   * ignored, as pos-auth ignores it), and the metadata is discovered below it (RFC 8414).
   */
  readonly issuer: string;
  /** The `aud` a JWT must carry: pos-auth's `ACCESS_TOKEN_AUDIENCE` (default `pos-api`). */
  readonly audience?: string | undefined;
  /** Where pos-auth's JWKS is; discovered from the metadata's `jwks_uri` when absent. */
  readonly jwksUri?: string | undefined;
  /**
   * Accept opaque access tokens by asking pos-auth (RFC 7662) as this client. Without it only
   * JWTs are accepted.
   */
  readonly introspection?:
    | (PosAuthClientCredentials &
        IntrospectionCacheOptions & {
          /** Discovered from the metadata's `introspection_endpoint` when absent. */
          readonly endpoint?: string | undefined;
        })
    | undefined;
  /** Seconds after a JWKS fetch before an unknown `kid` may fetch it again (jose's cooldown; default 30). */
  readonly jwksCooldownSeconds?: number | undefined;
  /** Seconds of clock difference to allow when checking `exp` (default 0). */
  readonly clockToleranceSeconds?: number | undefined;
  /** Milliseconds before a request to pos-auth (metadata, JWKS, introspection) counts as failed (default 5000). */
  readonly timeoutMs?: number | undefined;
  /** The `fetch` to call pos-auth with; the global one by default. */
  readonly fetch?: typeof fetch | undefined;
  /** The current time in epoch milliseconds; `Date.now` by default. For tests. */
  readonly now?: (() => number) | undefined;
}

export const accessTokenVerifierDefaults = {
  audience: 'pos-api',
  jwksCooldownSeconds: 30,
  clockToleranceSeconds: 0,
  timeoutMs: 5000,
  /** pos-auth's JWKS may be cached for 5 minutes and a rotation publishes its key before that. */
  jwksMaxAgeSeconds: 300,
} as const;

/** Checks an access token and says whose it is. */
export interface AccessTokenVerifier {
  /** The token's principal; throws `AccessTokenRefusal` when it is not accepted or cannot be checked. */
  verify(token: string): Promise<PosAuthPrincipal>;
}

const knownRoles: Record<PosAuthRole, true> = { admin: true, manager: true, chef: true, expeditor: true, patron: true };
const isRole = (value: unknown): value is PosAuthRole => typeof value === 'string' && Object.hasOwn(knownRoles, value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isInstant = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * A JWS in compact form: three base64url parts, the last empty when unsigned (which jose then
 * refuses as such). pos-auth's opaque tokens are UUIDs.
 */
const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]*$/u.test(token);

const metadataUrlOf = (issuer: string): string => {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
};

const invalid = (reason: string, cause?: unknown) => new AccessTokenRefusal('invalid_token', reason, cause === undefined ? undefined : { cause });

/** What a jose error says about the token: its fault (401), or not (pos-auth could not be asked). */
const refusalOf = (error: unknown): AccessTokenRefusal => {
  if (error instanceof AccessTokenRefusal) return error;
  if (error instanceof errors.JWTExpired) return invalid('jwt_expired', error);
  if (error instanceof errors.JWTClaimValidationFailed) return invalid(`jwt_claim_${error.claim}_${error.reason}`, error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('jwt_signature_invalid', error);
  if (error instanceof errors.JWKSNoMatchingKey) return invalid('jwt_unknown_key', error);
  if (error instanceof errors.JWKSMultipleMatchingKeys) return invalid('jwt_ambiguous_key', error);
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid('jwt_algorithm_not_allowed', error);
  if (error instanceof errors.JOSENotSupported) return invalid('jwt_not_supported', error);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return invalid('jwt_malformed', error);
  return new AccessTokenRefusal('temporarily_unavailable', 'jwks_unavailable', { cause: error });
};

const principalOf = (claims: Readonly<Record<string, unknown>>, verifiedBy: PosAuthPrincipal['verifiedBy']): PosAuthPrincipal => {
  const { sub, role, sid, client_id: clientId, scope, iat, exp } = claims;
  if (!isText(sub) || !isText(sid) || !isText(clientId) || !isInstant(iat) || !isInstant(exp)) {
    throw invalid(`${verifiedBy}_claims_missing`);
  }
  if (!isRole(role)) throw invalid(`${verifiedBy}_role_unknown`);
  return { userId: sub, role, sessionId: sid, clientId, scope: isText(scope) ? scope : null, issuedAt: iat, expiresAt: exp, verifiedBy };
};

/**
 * Verifies pos-auth access tokens for a resource server. A JWT (`ACCESS_TOKEN_FORMAT=jwt`) is
 * verified here, without asking pos-auth: signature by a key of pos-auth's JWKS (fetched once,
 * kept for 5 minutes, fetched again when a token names an unknown `kid`), `typ` `at+jwt`, `alg`
 * EdDSA, `iss`, `aud`, `exp`, and the claims pos-auth always sets. Any other token is introspected
 * (RFC 7662) when `introspection` is configured, else refused. A JWT that fails is never
 * introspected instead: a forged one costs pos-auth nothing.
 *
 * A revocation reaches a JWT check only when the token expires (keep `ACCESS_TOKEN_TTL` short),
 * and an introspection check within `cacheTtlSeconds`.
 *
 * @example
 * const verifier = createAccessTokenVerifier({ issuer: 'https://auth.pos.example' });
 * const principal = await verifier.verify(token); // throws AccessTokenRefusal
 */
export const createAccessTokenVerifier = (options: AccessTokenVerifierOptions): AccessTokenVerifier => {
  const issuer = options.issuer.replace(/\/+$/u, '');
  const audience = options.audience ?? accessTokenVerifierDefaults.audience;
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? accessTokenVerifierDefaults.timeoutMs;
  const clockTolerance = options.clockToleranceSeconds ?? accessTokenVerifierDefaults.clockToleranceSeconds;

  let metadata: Promise<Readonly<Record<string, unknown>>> | undefined;
  /** RFC 8414 metadata, fetched once; a failed fetch is not kept. */
  const discover = (): Promise<Readonly<Record<string, unknown>>> => {
    metadata ??= (async () => {
      let body: unknown;
      try {
        const response = await fetchImpl(metadataUrlOf(issuer), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
        if (response.status !== 200) throw new Error(`the metadata answered ${response.status}`);
        body = await response.json();
      } catch (error) {
        throw new AccessTokenRefusal('temporarily_unavailable', 'metadata_unavailable', { cause: error });
      }
      // RFC 8414 §3.3: metadata that names another issuer must not be used.
      if ((body as { issuer?: unknown } | null)?.issuer !== issuer) throw new AccessTokenRefusal('temporarily_unavailable', 'metadata_issuer_mismatch');
      return body as Readonly<Record<string, unknown>>;
    })();
    metadata.catch(() => {
      metadata = undefined;
    });
    return metadata;
  };
  const endpoint = (given: string | undefined, field: string) => async (): Promise<string> => {
    if (given !== undefined) return given;
    const found = (await discover())[field];
    if (!isText(found)) throw new AccessTokenRefusal('temporarily_unavailable', `metadata_without_${field}`);
    return found;
  };

  let jwks: Promise<JWTVerifyGetKey> | undefined;
  const keys = (): Promise<JWTVerifyGetKey> => {
    jwks ??= endpoint(options.jwksUri, 'jwks_uri')().then((uri) =>
      createRemoteJWKSet(new URL(uri), {
        cooldownDuration: (options.jwksCooldownSeconds ?? accessTokenVerifierDefaults.jwksCooldownSeconds) * 1000,
        cacheMaxAge: accessTokenVerifierDefaults.jwksMaxAgeSeconds * 1000,
        timeoutDuration: timeoutMs,
        [customFetch]: fetchImpl,
      }),
    );
    jwks.catch(() => {
      jwks = undefined;
    });
    return jwks;
  };

  const introspection = options.introspection;
  const introspect =
    introspection === undefined
      ? null
      : createIntrospectionClient(endpoint(introspection.endpoint, 'introspection_endpoint'), introspection, {
          fetch: fetchImpl,
          now,
          timeoutMs,
          cacheTtlSeconds: introspection.cacheTtlSeconds,
          cacheMaxEntries: introspection.cacheMaxEntries,
        });

  const verifyJwt = async (token: string): Promise<PosAuthPrincipal> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await keys(), {
        issuer,
        audience,
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid', 'client_id', 'role'],
        clockTolerance,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      throw refusalOf(error);
    }
    return principalOf(payload, 'jwt');
  };

  const verifyOpaque = async (token: string): Promise<PosAuthPrincipal> => {
    if (introspect === null) throw invalid('opaque_token_without_introspection');
    const answer: ActiveIntrospection | null = await introspect(token);
    if (answer === null) throw invalid('inactive');
    // pos-auth introspects refresh tokens too: only an access token may call a resource server.
    const type = answer['token_type'];
    if (typeof type !== 'string' || !['bearer', 'access_token'].includes(type.toLowerCase())) throw invalid('introspection_not_an_access_token');
    const principal = principalOf(answer, 'introspection');
    if (principal.expiresAt * 1000 <= now()) throw invalid('introspection_expired');
    return principal;
  };

  return { verify: (token) => (looksLikeJwt(token) ? verifyJwt(token) : verifyOpaque(token)) };
};
