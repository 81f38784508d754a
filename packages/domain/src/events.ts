import type { AdminRosterEvent } from './admin/admin-roster.js';
import type { ClientEvent } from './client/client.js';
import type { LoginAttemptsEvent } from './login/login-attempts.js';
import type { SessionEvent } from './session/session.js';
import type { DomainEvent, RecordedEvent } from './shared/event.js';
import type { UserId } from './shared/ids.js';
import type { UserEvent } from './user/user.js';

/** Every event type the domain emits. */
export type PosAuthEvent = UserEvent | SessionEvent | LoginAttemptsEvent | ClientEvent | AdminRosterEvent;

/** One `RecordedEvent` per event type, so that a `switch` on `type` narrows `data`. */
export type RecordedPosAuthEvent = PosAuthEvent extends infer E ? (E extends DomainEvent ? RecordedEvent<E> : never) : never;

/** Every type of `PosAuthEvent`; the `Record` fails to compile when the domain adds one. */
const posAuthEventTypes: Record<PosAuthEvent['type'], true> = {
  UserRegistered: true,
  UserRoleChanged: true,
  UserDisabled: true,
  UserEnabled: true,
  UserProfileChanged: true,
  PasswordChanged: true,
  UserErased: true,
  LoginFailed: true,
  LoginThrottled: true,
  FailedLoginsCleared: true,
  TokenIssued: true,
  TokenRefreshed: true,
  RefreshTokenReused: true,
  SessionRevoked: true,
  ClientRegistered: true,
  ClientSecretRotated: true,
  AdminRosterOpened: true,
  ActiveAdminAdded: true,
  ActiveAdminRemoved: true,
};

export const posAuthEventTypeNames = Object.keys(posAuthEventTypes) as PosAuthEvent['type'][];

/**
 * Whether this code knows the event's type. The log accepts any type; one written by newer code
 * (or by a test) is kept and read back, but nothing here interprets it.
 */
export const isPosAuthEvent = <E extends DomainEvent>(event: E): event is E & PosAuthEvent =>
  Object.hasOwn(posAuthEventTypes, event.type);

/**
 * Whose personal data an event holds, and which of its fields are personal (DESIGN.md, "Events"):
 * the store encrypts those fields, and the `ip` and `userAgent` of its metadata, with the subject's
 * own key, so that destroying the key erases the person from the log while the events, their
 * order and their hash chain stay. The subject is also whom an audit query by user finds the
 * event for. An event with no subject keeps no personal fields.
 */
export interface PersonalData {
  readonly subject: UserId | null;
  readonly fields: readonly string[];
}

const none: PersonalData = { subject: null, fields: [] };

export const personalDataOf = (event: DomainEvent): PersonalData => {
  if (!isPosAuthEvent(event)) return none;
  switch (event.type) {
    case 'UserRegistered':
      return { subject: event.data.userId, fields: ['userName', 'userNameKey', 'email', 'name'] };
    case 'UserProfileChanged':
      return { subject: event.data.userId, fields: ['name', 'email'] };
    case 'UserRoleChanged':
    case 'UserDisabled':
    case 'UserEnabled':
    case 'PasswordChanged':
    case 'UserErased':
    case 'FailedLoginsCleared':
    case 'TokenIssued':
    case 'TokenRefreshed':
    case 'RefreshTokenReused':
    case 'SessionRevoked':
    case 'ActiveAdminAdded':
    case 'ActiveAdminRemoved':
      return { subject: event.data.userId, fields: [] };
    case 'LoginFailed':
    case 'LoginThrottled':
      return { subject: event.data.userId, fields: [] };
    case 'ClientRegistered':
    case 'ClientSecretRotated':
    case 'AdminRosterOpened':
      return none;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};
