export * from './shared/assert-never.js';
export * from './shared/errors.js';
export * from './shared/event.js';
export * from './shared/ids.js';
export type * from './ports.js';
export * from './user/role.js';
export * from './user/user-name.js';
export * from './user/password-policy.js';
export * as user from './user/user.js';
export type { LoginFailed, User, UserCommand, UserEvent, UserRegistered } from './user/user.js';
export * as session from './session/session.js';
export type { Session, SessionCommand, SessionEvent, SessionRevoked, TokenIssued, TokenPair, TokenRefreshed } from './session/session.js';
export * as client from './client/client.js';
export type { Client, ClientCommand, ClientEvent, ClientRegistered } from './client/client.js';
export * from './use-cases/deps.js';
export * from './use-cases/tokens.js';
export * from './use-cases/register-user.js';
export * from './use-cases/issue-token-with-password.js';
export * from './use-cases/refresh-token.js';
export * from './use-cases/access.js';
export * from './use-cases/clients.js';

import type { ClientEvent } from './client/client.js';
import type { SessionEvent } from './session/session.js';
import type { UserEvent } from './user/user.js';
/** Every event type the domain emits. */
export type PosAuthEvent = UserEvent | SessionEvent | ClientEvent;
