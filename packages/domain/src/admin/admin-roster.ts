import { assertNever } from '../shared/assert-never.js';
import type { Decider } from '../shared/decider.js';
import { LastAdminError } from '../shared/errors.js';
import type { DomainEvent } from '../shared/event.js';
import type { UserId } from '../shared/ids.js';

/**
 * The active admins of the system, as one aggregate: "the last active admin can be neither demoted
 * nor disabled" spans users, so every change to the set appends here in the same atomic write as
 * the user's own event, and two admins demoting each other at once cannot both succeed.
 */
export type AdminRosterOpened = DomainEvent<'AdminRosterOpened', { readonly adminIds: readonly UserId[]; readonly openedAt: string }>;
export type ActiveAdminAdded = DomainEvent<'ActiveAdminAdded', { readonly userId: UserId; readonly addedAt: string }>;
export type ActiveAdminRemoved = DomainEvent<'ActiveAdminRemoved', { readonly userId: UserId; readonly removedAt: string }>;

export type AdminRosterEvent = AdminRosterOpened | ActiveAdminAdded | ActiveAdminRemoved;

export type AdminRoster = { readonly status: 'none' } | { readonly status: 'open'; readonly adminIds: readonly UserId[] };

export const initialAdminRoster: AdminRoster = { status: 'none' };

export type AdminRosterCommand =
  /** Opens the roster: at the bootstrap sign-up, or from the users of a database that predates it. */
  | { readonly type: 'OpenRoster'; readonly data: { readonly adminIds: readonly UserId[]; readonly now: string } }
  /** Records that a user became, or stopped being, an active admin. */
  | { readonly type: 'UpdateRoster'; readonly data: { readonly userId: UserId; readonly activeAdmin: boolean; readonly now: string } };

export const evolve = (state: AdminRoster, event: AdminRosterEvent): AdminRoster => {
  switch (event.type) {
    case 'AdminRosterOpened':
      return { status: 'open', adminIds: event.data.adminIds };
    case 'ActiveAdminAdded':
      return state.status === 'open' ? { status: 'open', adminIds: [...state.adminIds, event.data.userId] } : state;
    case 'ActiveAdminRemoved':
      return state.status === 'open' ? { status: 'open', adminIds: state.adminIds.filter((id) => id !== event.data.userId) } : state;
    default:
      return assertNever(event);
  }
};

export const decide = (command: AdminRosterCommand, state: AdminRoster): AdminRosterEvent[] => {
  switch (command.type) {
    case 'OpenRoster':
      if (state.status !== 'none') throw new TypeError('The admin roster is already open');
      return [{ type: 'AdminRosterOpened', data: { adminIds: command.data.adminIds, openedAt: command.data.now } }];
    case 'UpdateRoster': {
      if (state.status !== 'open') throw new TypeError('The admin roster is not open');
      const { userId, activeAdmin, now } = command.data;
      const listed = state.adminIds.includes(userId);
      if (activeAdmin === listed) return [];
      if (activeAdmin) return [{ type: 'ActiveAdminAdded', data: { userId, addedAt: now } }];
      if (state.adminIds.length <= 1) throw new LastAdminError();
      return [{ type: 'ActiveAdminRemoved', data: { userId, removedAt: now } }];
    }
    default:
      return assertNever(command);
  }
};

export const adminRosterDecider: Decider<AdminRosterCommand, AdminRosterEvent, AdminRoster> = {
  initialState: initialAdminRoster,
  evolve,
  decide,
  stateSchema: 1,
};
