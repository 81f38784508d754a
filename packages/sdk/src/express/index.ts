export { requireAuth, type RequireAuthOptions } from './require-auth.js';
export {
  accessTokenVerifierDefaults,
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type PosAuthPrincipal,
} from './verifier.js';
export { introspectionCacheDefaults, type IntrospectionCacheOptions } from './introspection.js';
export { AccessTokenRefusal, type AccessTokenErrorCode } from './refusal.js';
export type { PosAuthRole } from '../rest-client.js';
