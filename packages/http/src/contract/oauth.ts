import type { Introspection } from '@pos-auth/domain';
import { z } from 'zod';
import { text } from '../input.js';

/**
 * Revocation (RFC 7009), introspection (RFC 7662) and the server's metadata (RFC 8414). REST takes
 * the token as the RFCs' form parameter `token`, with the token endpoint's parameter rules; tRPC as
 * `tokenInput`.
 */

/** `auth.revoke` and `auth.introspect`. */
export const tokenInput = z.object({ token: text() });

/**
 * An introspection answer in RFC 7662's names. `token_type` is RFC 6749 §5.1's type of an access
 * token, `Bearer`; a refresh token, which has none there, is `refresh_token` (its token type hint
 * name), so that a resource server checking `token_type` refuses a refresh token used as an
 * access token. Anything not active is only `{ active: false }`.
 *
 * @example
 * res.json(introspectionResponse(await introspect(deps, token)));
 */
export const introspectionResponse = (result: Introspection) =>
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

const clientAuthMethods = ['client_secret_basic', 'client_secret_post'];

/**
 * RFC 8414 metadata for `issuer` (no trailing slash): what a stock OAuth client discovers. There
 * is no authorization endpoint (the password grant needs none), so no response type is supported.
 *
 * @example
 * authorizationServerMetadata('https://auth.pos.example').token_endpoint; // 'https://auth.pos.example/oauth/token'
 */
export const authorizationServerMetadata = (issuer: string) => ({
  issuer,
  token_endpoint: `${issuer}/oauth/token`,
  revocation_endpoint: `${issuer}/oauth/revoke`,
  introspection_endpoint: `${issuer}/oauth/introspect`,
  grant_types_supported: ['password', 'refresh_token'],
  response_types_supported: [],
  token_endpoint_auth_methods_supported: clientAuthMethods,
  revocation_endpoint_auth_methods_supported: clientAuthMethods,
  introspection_endpoint_auth_methods_supported: clientAuthMethods,
});
