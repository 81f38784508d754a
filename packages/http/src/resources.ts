import { jwksMetadata } from './rest/jwks.routes.js';
import {
  clientAuthMethods,
  type roles as contractRoles,
  type AuthorizationServerMetadata,
  type IntrospectionResponse,
  type IntrospectionView,
  type SessionResource,
  type SessionView,
  type TokenResponse,
  type TokenSet,
  type UserPage,
  type UserPageView,
  type UserResource,
  type UserView,
} from '@pos-auth/contract';
import type { roles as domainRoles } from '@pos-auth/domain';

/**
 * The use cases' results as the API's REST resources. Each mapper takes the contract's camelCase
 * view, which is what tRPC answers (its procedures declare it as their output), and returns the
 * contract's snake_case resource: the routes pass the domain's views in, so a domain view that no
 * longer fits the contract, a field added to a resource alone, or a type that drifts, fails to
 * compile.
 */

/** `true` only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// The contract's roles are the domain's, in the same order: a role added to one alone fails to compile.
true satisfies Equal<typeof contractRoles, typeof domainRoles>;

/** The user resource in the API's snake_case. */
export const userResourceOf = (user: UserView): UserResource => ({
  id: user.id,
  user_name: user.userName,
  email: user.email,
  name: user.name,
  role: user.role,
  disabled: user.disabled,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
});

/** A page of `GET /users`. */
export const userPageOf = (page: UserPageView): UserPage => ({ items: page.items.map(userResourceOf), next_cursor: page.nextCursor });

/** A session in the API's snake_case. */
export const sessionResourceOf = (session: SessionView): SessionResource => ({
  id: session.id,
  client_id: session.clientId,
  created_at: session.createdAt,
  last_refreshed_at: session.lastRefreshedAt,
  expires_at: session.expiresAt,
  ip: session.ip,
  user_agent: session.userAgent,
  current: session.current,
});

/** A token response (RFC 6749 §5.1). */
export const tokenResponseOf = (tokens: TokenSet): TokenResponse => ({
  access_token: tokens.accessToken,
  token_type: tokens.tokenType,
  expires_in: tokens.expiresIn,
  expires_at: tokens.expiresAt,
  refresh_token: tokens.refreshToken,
  ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
});

/**
 * An introspection answer in RFC 7662's names. `token_type` is RFC 6749 §5.1's type of an access
 * token, `Bearer`; a refresh token, which has none there, is `refresh_token` (its token type hint
 * name), so that a resource server checking `token_type` refuses a refresh token used as an
 * access token. Anything not active is only `{ active: false }`.
 *
 * @example
 * res.json(introspectionResponseOf(await introspect(deps, token)));
 */
export const introspectionResponseOf = (result: IntrospectionView): IntrospectionResponse =>
  result.active
    ? {
        active: true,
        token_type: result.tokenType === 'access_token' ? 'Bearer' : 'refresh_token',
        client_id: result.clientId,
        username: result.userName,
        sub: result.userId,
        sid: result.sessionId,
        role: result.role,
        ...(result.scope === null ? {} : { scope: result.scope }),
        exp: result.expiresAt,
        iat: result.issuedAt,
      }
    : { active: false };

/**
 * RFC 8414 metadata for `issuer` (no trailing slash): what a stock OAuth client discovers. There
 * is no authorization endpoint (the password grant needs none), so no response type is supported.
 *
 * @example
 * authorizationServerMetadataOf('https://auth.pos.example').token_endpoint; // 'https://auth.pos.example/oauth/token'
 */
export const authorizationServerMetadataOf = (issuer: string): AuthorizationServerMetadata => ({
  issuer,
  token_endpoint: `${issuer}/oauth/token`,
  revocation_endpoint: `${issuer}/oauth/revoke`,
  introspection_endpoint: `${issuer}/oauth/introspect`,
  ...jwksMetadata(issuer),
  grant_types_supported: ['password', 'refresh_token'],
  response_types_supported: [],
  token_endpoint_auth_methods_supported: [...clientAuthMethods],
  revocation_endpoint_auth_methods_supported: [...clientAuthMethods],
  introspection_endpoint_auth_methods_supported: [...clientAuthMethods],
});
