import { assertNever } from '../shared/assert-never.js';
import type { DomainEvent } from '../shared/event.js';
import type { ClientId, UserId } from '../shared/ids.js';
import type { Role } from './role.js';

export type UserRegistered = DomainEvent<
  'UserRegistered',
  {
    readonly userId: UserId;
    readonly userName: string;
    /** The comparison key decided at registration (NFKC, case-folded); what logins look up. */
    readonly userNameKey: string;
    readonly email: string | null;
    readonly name: string | null;
    readonly role: Role;
    /** True for the first account of an empty system, which became admin by bootstrap. */
    readonly bootstrap: boolean;
    readonly registeredAt: string;
  }
>;

export type LoginFailed = DomainEvent<
  'LoginFailed',
  {
    /** Null when the user name belongs to nobody. */
    readonly userId: UserId | null;
    readonly attemptedUserName: string;
    readonly clientId: ClientId;
    readonly reason: 'unknown_user' | 'wrong_password';
    readonly failedAt: string;
  }
>;

export type UserEvent = UserRegistered | LoginFailed;

export type User =
  | { readonly status: 'unregistered' }
  | {
      readonly status: 'active';
      readonly userId: UserId;
      readonly role: Role;
      readonly failedLogins: number;
    };

export const initialUser: User = { status: 'unregistered' };

export type RegisterUser = {
  readonly type: 'RegisterUser';
  readonly data: UserRegistered['data'];
};

export type RecordFailedLogin = {
  readonly type: 'RecordFailedLogin';
  readonly data: LoginFailed['data'];
};

export type UserCommand = RegisterUser | RecordFailedLogin;

export const evolve = (state: User, event: UserEvent): User => {
  switch (event.type) {
    case 'UserRegistered':
      return { status: 'active', userId: event.data.userId, role: event.data.role, failedLogins: 0 };
    case 'LoginFailed':
      return state.status === 'active' ? { ...state, failedLogins: state.failedLogins + 1 } : state;
    default:
      return assertNever(event);
  }
};

export const decide = (command: UserCommand, state: User): UserEvent[] => {
  switch (command.type) {
    case 'RegisterUser':
      if (state.status !== 'unregistered') {
        throw new TypeError(`User ${command.data.userId} is already registered`);
      }
      return [{ type: 'UserRegistered', data: command.data }];
    case 'RecordFailedLogin':
      return [{ type: 'LoginFailed', data: command.data }];
    default:
      return assertNever(command);
  }
};
