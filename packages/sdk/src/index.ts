export {
  createPosAuthClient,
  posAuthClientDefaults,
  type LoginInput,
  type PosAuthClient,
  type PosAuthClientOptions,
  type PosAuthRole,
  type PosAuthUser,
  type RegisterInput,
} from './rest-client.js';
export {
  createPosAuthAuditClient,
  type PosAuthAuditClient,
  type PosAuthAuditClientOptions,
  type PosAuthAuditEvent,
  type PosAuthAuditPage,
  type PosAuthAuditQuery,
} from './audit-client.js';
export { createPosAuthTrpcClient, type PosAuthTrpcClient, type PosAuthTrpcClientOptions } from './trpc-client.js';
export { PosAuthError, type PosAuthErrorInit, type PosAuthFieldError } from './errors.js';
export {
  createMemoryTokenStorage,
  createWebTokenStorage,
  type TokenSet,
  type TokenStorage,
  type WebStorageLike,
} from './token-storage.js';
export type { PosAuthClientCredentials } from './credentials.js';
export { TRPCClientError, isTRPCClientError } from '@trpc/client';
export type { AppRouter } from '@pos-auth/http';
