import { z } from 'zod';
import { role } from './roles.js';
import { secret, text } from './text.js';

/**
 * The token endpoints (RFC 6749), revocation (RFC 7009), introspection (RFC 7662) and the server's
 * metadata (RFC 8414), as REST and tRPC take and answer them.
 */

/**
 * Every parameter the token, revocation and introspection endpoints read, with its rule: a secret
 * may hold control characters, every other parameter is text. REST reads them one at a time, so
 * that a parameter given twice (`a=1&a=2`) is refused (RFC 6749 §3.2) and a missing one named in
 * the OAuth error's description.
 */
export const oauthParameters = {
  grant_type: text(),
  user_name: text(),
  username: text(),
  password: secret(),
  scope: text(),
  refresh_token: text(),
  client_id: text(),
  client_secret: secret(),
  token: text(),
} as const;

export type OAuthParameter = keyof typeof oauthParameters;

/** `client_secret_post` (RFC 6749 §2.3.1): the client's credentials as body parameters, in place of `Authorization: Basic`. */
const clientSecretPost = {
  client_id: oauthParameters.client_id.optional(),
  client_secret: oauthParameters.client_secret.optional(),
};

const passwordGrant = {
  grant_type: z.literal('password'),
  password: oauthParameters.password,
  scope: oauthParameters.scope.optional(),
  ...clientSecretPost,
};

const refreshGrant = z.object({
  grant_type: z.literal('refresh_token'),
  refresh_token: oauthParameters.refresh_token,
  ...clientSecretPost,
});

/**
 * The body of `POST /auth/token` and `POST /oauth/token`: the password grant (with `user_name`, or
 * RFC 6749's `username`) or the refresh-token grant. Unknown parameters are ignored.
 */
export const tokenRequest = z
  .union([
    z.object({ ...passwordGrant, user_name: oauthParameters.user_name }),
    z.object({ ...passwordGrant, username: oauthParameters.username }),
    refreshGrant,
  ])
  .meta({ id: 'TokenRequest' });

/** The body of `POST /auth/refresh-token`: the refresh token, unless `Authorization: Bearer` carries it. */
export const refreshTokenRequest = z
  .object({
    refresh_token: oauthParameters.refresh_token.optional(),
    grant_type: z.literal('refresh_token').optional(),
  })
  .meta({ id: 'RefreshTokenRequest' });

/** The body of `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662). */
export const tokenLookupRequest = z
  .object({
    token: oauthParameters.token,
    token_type_hint: z
      .enum(['access_token', 'refresh_token'])
      .optional()
      .meta({ description: 'Not needed: both kinds of token are looked up whatever it says (RFC 7009 §2.1).' }),
    ...clientSecretPost,
  })
  .meta({ id: 'TokenLookupRequest' });

/** `auth.token`: as `POST /auth/token`, the client's credentials in `Authorization: Basic`. */
export const grantInput = z.discriminatedUnion('grantType', [
  z.object({ grantType: z.literal('password'), userName: text(), password: secret(), scope: text().optional() }),
  z.object({ grantType: z.literal('refresh_token'), refreshToken: text() }),
]);

/** `auth.refresh`. */
export const refreshInput = z.object({ refreshToken: text() });

/** `auth.revoke` and `auth.introspect`. */
export const tokenInput = z.object({ token: text() });

const expiresIn = z.int().min(0).meta({ description: 'Whole seconds the access token stays valid, counted at the answer.' });
const expiresAt = z.iso.datetime().meta({ description: 'The same instant as `expires_in`, ISO 8601 UTC.' });

/** A token response (RFC 6749 §5.1): what the token endpoints answer. */
export const tokenResponse = z
  .object({
    access_token: z.string().meta({ description: 'A random UUID, unless the service issues JWT access tokens.' }),
    token_type: z.literal('Bearer'),
    expires_in: expiresIn,
    expires_at: expiresAt,
    refresh_token: z.string().meta({ description: 'Opaque; it works once: each refresh rotates it.' }),
    scope: z.string().optional(),
  })
  .meta({ id: 'TokenResponse' });

export type TokenResponse = z.output<typeof tokenResponse>;

/** The tokens as tRPC answers them and the SDK keeps them: the token response, camelCase. */
export const tokenSet = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn,
  expiresAt,
  scope: z.string().optional(),
});

export type TokenSet = z.output<typeof tokenSet>;

/**
 * Reads a token response off the wire into its camelCase view; refuses anything else.
 *
 * @example
 * const tokens = readTokens.parse(await response.json()); // { accessToken, refreshToken, expiresAt, ... }
 */
export const readTokens = tokenResponse.transform(
  (tokens): TokenSet => ({
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    tokenType: tokens.token_type,
    expiresIn: tokens.expires_in,
    expiresAt: tokens.expires_at,
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  }),
);

const epochSeconds = z.int().min(0);

/**
 * An active token's introspection (RFC 7662 §2.2). `token_type` is `Bearer` for an access token
 * and `refresh_token` for a refresh token, so that a resource server checking it refuses a refresh
 * token used as an access token.
 */
export const activeIntrospection = z
  .object({
    active: z.literal(true),
    token_type: z.enum(['Bearer', 'refresh_token']),
    client_id: z.string(),
    username: z.string(),
    sub: z.uuid().meta({ description: 'The user id.' }),
    sid: z.uuid().meta({ description: 'The session id.' }),
    role,
    scope: z.string().optional(),
    exp: epochSeconds,
    iat: epochSeconds,
  })
  .meta({ id: 'ActiveIntrospection' });

/** Anything not active (unknown, expired, revoked, rotated away) is only this. */
export const inactiveIntrospection = z.object({ active: z.literal(false) }).meta({ id: 'InactiveIntrospection' });

/** What `POST /oauth/introspect` answers. */
export const introspectionResponse = z.union([activeIntrospection, inactiveIntrospection]);

export type IntrospectionResponse = z.output<typeof introspectionResponse>;

/** `auth.introspect`'s answer, in the domain's camelCase. */
export const introspectionView = z.union([
  z.object({ active: z.literal(false) }),
  z.object({
    active: z.literal(true),
    tokenType: z.enum(['access_token', 'refresh_token']),
    clientId: z.string(),
    userName: z.string(),
    userId: z.uuid(),
    sessionId: z.uuid(),
    role,
    scope: z.string().nullable(),
    expiresAt: epochSeconds,
    issuedAt: epochSeconds,
  }),
]);

export type IntrospectionView = z.output<typeof introspectionView>;

export const clientAuthMethods = ['client_secret_basic', 'client_secret_post'] as const;

const clientAuthMethodList = z.array(z.enum(clientAuthMethods));

/**
 * RFC 8414 metadata: what a stock OAuth client discovers. There is no authorization endpoint (the
 * password grant needs none), so no response type is supported.
 */
export const authorizationServerMetadata = z
  .object({
    issuer: z.url(),
    token_endpoint: z.url(),
    revocation_endpoint: z.url(),
    introspection_endpoint: z.url(),
    jwks_uri: z.url(),
    grant_types_supported: z.array(z.enum(['password', 'refresh_token'])),
    response_types_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: clientAuthMethodList,
    revocation_endpoint_auth_methods_supported: clientAuthMethodList,
    introspection_endpoint_auth_methods_supported: clientAuthMethodList,
  })
  .meta({ id: 'AuthorizationServerMetadata' });

export type AuthorizationServerMetadata = z.output<typeof authorizationServerMetadata>;

/** A public key that verifies JWT access tokens (RFC 7517; Ed25519, RFC 8037). */
export const publicJsonWebKey = z
  .object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z.string().regex(/^[\w-]+$/u),
    kid: z.string().min(1),
    alg: z.literal('EdDSA'),
    use: z.literal('sig'),
  })
  .meta({ id: 'PublicJsonWebKey' });

/** `GET /.well-known/jwks.json`: the keys that verify JWT access tokens, those about to sign included. */
export const jsonWebKeySet = z.object({ keys: z.array(publicJsonWebKey) }).meta({ id: 'JsonWebKeySet' });

export type JsonWebKeySet = z.output<typeof jsonWebKeySet>;
