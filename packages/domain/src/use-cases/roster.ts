import { adminRosterDecider, type AdminRoster } from '../admin/admin-roster.js';
import { adminRosterStreamId, type UserId } from '../shared/ids.js';
import type { StreamWrite } from '../ports.js';
import type { AuthDeps } from './deps.js';
import { load, writeOf, type Loaded } from './streams.js';

export const loadRoster = (deps: Pick<AuthDeps, 'eventStore'>): Promise<Loaded<AdminRoster>> =>
  load(deps.eventStore, adminRosterDecider, adminRosterStreamId);

/**
 * The roster's part of a write that makes `userId` an active admin or stops it being one; null when
 * it changes nothing. It expects the roster's current version, so two writes that both change the
 * roster cannot both succeed, and it refuses to remove the last active admin (`LastAdminError`).
 * A database from before the roster gets one, opened from the users projection.
 */
export const rosterWriteFor = async (
  deps: Pick<AuthDeps, 'eventStore' | 'users'>,
  change: { readonly userId: UserId; readonly wasActiveAdmin: boolean; readonly isActiveAdmin: boolean; readonly now: Date },
  loaded?: Loaded<AdminRoster>,
): Promise<StreamWrite | null> => {
  if (change.wasActiveAdmin === change.isActiveAdmin) return null;
  const roster = loaded ?? (await loadRoster(deps));
  const now = change.now.toISOString();
  const opening =
    roster.state.status === 'none'
      ? adminRosterDecider.decide({ type: 'OpenRoster', data: { adminIds: await deps.users.listActiveAdminIds(), now } }, roster.state)
      : [];
  const opened = opening.reduce(adminRosterDecider.evolve, roster.state);
  const update = adminRosterDecider.decide(
    { type: 'UpdateRoster', data: { userId: change.userId, activeAdmin: change.isActiveAdmin, now } },
    opened,
  );
  return writeOf(adminRosterDecider, roster, [...opening, ...update]);
};
