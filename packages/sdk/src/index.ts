export {
  createPosAuthClient,
  posAuthClientDefaults,
  type ChangePasswordInput,
  type ListUsersQuery,
  type LoginInput,
  type LogoutOptions,
  type PosAuthClient,
  type PosAuthClientOptions,
  type PosAuthRole,
  type PosAuthSession,
  type PosAuthUser,
  type PosAuthUserPage,
  type PosAuthUsers,
  type RegisterInput,
  type UserChanges,
} from './rest-client.js';
export {
  createPosAuthAuditClient,
  type PosAuthAuditClient,
  type PosAuthAuditClientOptions,
  type PosAuthAuditEvent,
  type PosAuthAuditPage,
  type PosAuthAuditQuery,
} from './audit-client.js';
export type { SessionEnded, SessionEndReason } from './session.js';
export { createPosAuthTrpcClient, type PosAuthTrpcClient, type PosAuthTrpcClientOptions } from './trpc-client.js';
export { PosAuthError, type PosAuthErrorInit, type PosAuthFieldError } from './errors.js';
export {
  createMemoryTokenStorage,
  createWebTokenStorage,
  type SharedTokenStorage,
  type TokenChange,
  type TokenSet,
  type TokenStorage,
  type WebStorageLike,
} from './token-storage.js';
export type { WebLocks } from './tab-turns.js';
export type { PosAuthClientCredentials } from './credentials.js';
export { TRPCClientError, isTRPCClientError } from '@trpc/client';
export type { AppRouter } from '@pos-auth/http';
