import { describe, expect, it } from 'vitest';
import { LastAdminError } from '../shared/errors.js';
import { UserId } from '../shared/ids.js';
import { decide, evolve, initialAdminRoster, type AdminRosterEvent } from './admin-roster.js';

const [a, b] = [UserId('a'), UserId('b')];
const now = '2026-01-01T00:00:00.000Z';
const given = (...events: AdminRosterEvent[]) => events.reduce(evolve, initialAdminRoster);
const opened: AdminRosterEvent = { type: 'AdminRosterOpened', data: { adminIds: [a], openedAt: now } };

describe('admin roster', () => {
  it('opens once', () => {
    expect(decide({ type: 'OpenRoster', data: { adminIds: [a], now } }, initialAdminRoster)).toEqual([opened]);
    expect(() => decide({ type: 'OpenRoster', data: { adminIds: [a], now } }, given(opened))).toThrow(TypeError);
  });

  it('adds and removes admins; a change that changes nothing emits nothing', () => {
    const added = decide({ type: 'UpdateRoster', data: { userId: b, activeAdmin: true, now } }, given(opened));
    expect(added).toEqual([{ type: 'ActiveAdminAdded', data: { userId: b, addedAt: now } }]);
    expect(decide({ type: 'UpdateRoster', data: { userId: b, activeAdmin: true, now } }, given(opened, ...added))).toEqual([]);
    expect(decide({ type: 'UpdateRoster', data: { userId: a, activeAdmin: false, now } }, given(opened, ...added))).toEqual([
      { type: 'ActiveAdminRemoved', data: { userId: a, removedAt: now } },
    ]);
  });

  it('refuses to remove the last active admin', () => {
    expect(() => decide({ type: 'UpdateRoster', data: { userId: a, activeAdmin: false, now } }, given(opened))).toThrow(LastAdminError);
  });
});
