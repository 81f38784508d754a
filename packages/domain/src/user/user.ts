import { assertNever } from '../shared/assert-never.js';
import type { Decider } from '../shared/decider.js';
import { UserNotFoundError } from '../shared/errors.js';
import type { DomainEvent } from '../shared/event.js';
import type { UserId } from '../shared/ids.js';
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

export type UserRoleChanged = DomainEvent<
  'UserRoleChanged',
  { readonly userId: UserId; readonly role: Role; readonly previousRole: Role; readonly changedAt: string }
>;

export type UserDisabled = DomainEvent<'UserDisabled', { readonly userId: UserId; readonly disabledAt: string }>;

export type UserEnabled = DomainEvent<'UserEnabled', { readonly userId: UserId; readonly enabledAt: string }>;

/** Only the fields that changed are present. */
export type UserProfileChanged = DomainEvent<
  'UserProfileChanged',
  {
    readonly userId: UserId;
    readonly name?: string | null;
    readonly email?: string | null;
    readonly changedAt: string;
  }
>;

/** The password hash itself lives in the credentials table, written in the same transaction. */
export type PasswordChanged = DomainEvent<
  'PasswordChanged',
  { readonly userId: UserId; readonly by: 'self' | 'admin'; readonly changedAt: string }
>;

/** The person is erased: their key is destroyed, so their personal fields read as erased everywhere. */
export type UserErased = DomainEvent<'UserErased', { readonly userId: UserId; readonly erasedAt: string }>;

export type UserEvent =
  | UserRegistered
  | UserRoleChanged
  | UserDisabled
  | UserEnabled
  | UserProfileChanged
  | PasswordChanged
  | UserErased;

interface Account {
  readonly userId: UserId;
  readonly role: Role;
}

export type User =
  | { readonly status: 'unregistered' }
  | (Account & { readonly status: 'active' })
  | (Account & { readonly status: 'disabled' })
  | { readonly status: 'erased'; readonly userId: UserId };

export type UserCommand =
  | { readonly type: 'RegisterUser'; readonly data: UserRegistered['data'] }
  | { readonly type: 'ChangeRole'; readonly data: { readonly role: Role; readonly now: string } }
  | { readonly type: 'DisableUser'; readonly data: { readonly now: string } }
  | { readonly type: 'EnableUser'; readonly data: { readonly now: string } }
  | {
      readonly type: 'ChangeProfile';
      readonly data: { readonly name?: string | null; readonly email?: string | null; readonly now: string };
    }
  | { readonly type: 'ChangePassword'; readonly data: { readonly by: 'self' | 'admin'; readonly now: string } }
  | { readonly type: 'EraseUser'; readonly data: { readonly now: string } };

export const initialUser: User = { status: 'unregistered' };

export const isActiveAdmin = (user: User): boolean => user.status === 'active' && user.role === 'admin';

export const evolve = (state: User, event: UserEvent): User => {
  switch (event.type) {
    case 'UserRegistered':
      return { status: 'active', userId: event.data.userId, role: event.data.role };
    case 'UserRoleChanged':
      return state.status === 'active' || state.status === 'disabled' ? { ...state, role: event.data.role } : state;
    case 'UserDisabled':
      return state.status === 'active' ? { ...state, status: 'disabled' } : state;
    case 'UserEnabled':
      return state.status === 'disabled' ? { ...state, status: 'active' } : state;
    case 'UserProfileChanged':
    case 'PasswordChanged':
      return state;
    case 'UserErased':
      return { status: 'erased', userId: event.data.userId };
    default:
      return assertNever(event);
  }
};

type Existing = Extract<User, { status: 'active' | 'disabled' }>;

const existing = (state: User): Existing => {
  // An erased account is gone for every caller: the same answer as an id that never existed.
  if (state.status === 'active' || state.status === 'disabled') return state;
  throw new UserNotFoundError();
};

export const decide = (command: UserCommand, state: User): UserEvent[] => {
  switch (command.type) {
    case 'RegisterUser':
      if (state.status !== 'unregistered') {
        throw new TypeError(`User ${command.data.userId} is already registered`);
      }
      return [{ type: 'UserRegistered', data: command.data }];
    case 'ChangeRole': {
      const user = existing(state);
      if (user.role === command.data.role) return [];
      return [
        {
          type: 'UserRoleChanged',
          data: { userId: user.userId, role: command.data.role, previousRole: user.role, changedAt: command.data.now },
        },
      ];
    }
    case 'DisableUser': {
      const user = existing(state);
      return user.status === 'disabled' ? [] : [{ type: 'UserDisabled', data: { userId: user.userId, disabledAt: command.data.now } }];
    }
    case 'EnableUser': {
      const user = existing(state);
      return user.status === 'active' ? [] : [{ type: 'UserEnabled', data: { userId: user.userId, enabledAt: command.data.now } }];
    }
    case 'ChangeProfile': {
      const user = existing(state);
      const { name, email, now } = command.data;
      if (name === undefined && email === undefined) return [];
      return [
        {
          type: 'UserProfileChanged',
          data: {
            userId: user.userId,
            ...(name === undefined ? {} : { name }),
            ...(email === undefined ? {} : { email }),
            changedAt: now,
          },
        },
      ];
    }
    case 'ChangePassword': {
      const user = existing(state);
      return [{ type: 'PasswordChanged', data: { userId: user.userId, by: command.data.by, changedAt: command.data.now } }];
    }
    case 'EraseUser': {
      const user = existing(state);
      return [{ type: 'UserErased', data: { userId: user.userId, erasedAt: command.data.now } }];
    }
    default:
      return assertNever(command);
  }
};

export const userDecider: Decider<UserCommand, UserEvent, User> = {
  initialState: initialUser,
  evolve,
  decide,
  stateSchema: 1,
};
