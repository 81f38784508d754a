export { requireAuth, type RequireAuthOptions } from './express/require-auth.js';
export {
  accessTokenVerifierDefaults,
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type PosAuthPrincipal,
} from './express/verifier.js';
export { introspectionCacheDefaults, type IntrospectionCacheOptions } from './express/introspection.js';
export { AccessTokenRefusal, type AccessTokenErrorCode } from './express/refusal.js';
export type { PosAuthRole } from './rest-client.js';
