export * from './shared/assert-never.js';
export * from './shared/decider.js';
export * from './shared/errors.js';
export * from './shared/event.js';
export * from './shared/ids.js';
export type * from './ports.js';
export * from './events.js';
export * from './user/role.js';
export * from './user/user-name.js';
export * from './user/password-policy.js';
export * as user from './user/user.js';
export type {
  PasswordChanged,
  User,
  UserCommand,
  UserDisabled,
  UserEnabled,
  UserErased,
  UserEvent,
  UserProfileChanged,
  UserRegistered,
  UserRoleChanged,
} from './user/user.js';
export * as session from './session/session.js';
export type {
  RefreshTokenReused,
  Session,
  SessionCommand,
  SessionEvent,
  SessionRevocationReason,
  SessionRevoked,
  TokenIssued,
  TokenPair,
  TokenRefreshed,
} from './session/session.js';
export * as loginAttempts from './login/login-attempts.js';
export type { BackoffPolicy, FailedLoginsCleared, LoginAttempts, LoginAttemptsEvent, LoginFailed, LoginThrottled } from './login/login-attempts.js';
export { defaultBackoffPolicy } from './login/login-attempts.js';
export * as adminRoster from './admin/admin-roster.js';
export type { ActiveAdminAdded, ActiveAdminRemoved, AdminRoster, AdminRosterEvent, AdminRosterOpened } from './admin/admin-roster.js';
export * as client from './client/client.js';
export type { Client, ClientCommand, ClientEvent, ClientRegistered, ClientSecretRotated } from './client/client.js';
export * from './use-cases/deps.js';
export * from './use-cases/streams.js';
export * from './use-cases/tokens.js';
export * from './use-cases/register-user.js';
export * from './use-cases/issue-token-with-password.js';
export * from './use-cases/refresh-token.js';
export * from './use-cases/access.js';
export * from './use-cases/clients.js';
export * from './use-cases/sessions.js';
export * from './use-cases/manage-users.js';
export * from './use-cases/audit.js';
