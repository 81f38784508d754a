import { describe, expect, it } from 'vitest';
import { UserNotFoundError } from '../shared/errors.js';
import { UserId } from '../shared/ids.js';
import { checkPassword } from './password-policy.js';
import { decide, evolve, initialUser, isActiveAdmin, type UserCommand, type UserEvent, type UserRegistered } from './user.js';
import { normalizeUserName } from './user-name.js';

const userId = UserId('u1');
const registered: UserRegistered = {
  type: 'UserRegistered',
  data: {
    userId,
    userName: 'Alice',
    userNameKey: 'alice',
    email: null,
    name: null,
    role: 'patron',
    bootstrap: false,
    registeredAt: '2026-01-01T00:00:00.000Z',
  },
};
const now = '2026-01-02T00:00:00.000Z';
const given = (...events: UserEvent[]) => events.reduce(evolve, initialUser);

describe('user decider', () => {
  it('given nothing, when RegisterUser, then UserRegistered', () => {
    expect(decide({ type: 'RegisterUser', data: registered.data }, initialUser)).toEqual([registered]);
  });

  it('refuses to register the same user twice (ids are fresh: a programmer error)', () => {
    expect(() => decide({ type: 'RegisterUser', data: registered.data }, given(registered))).toThrow(TypeError);
  });

  it.each<[string, UserCommand, UserEvent[]]>([
    ['a role change', { type: 'ChangeRole', data: { role: 'chef', now } }, [{ type: 'UserRoleChanged', data: { userId, role: 'chef', previousRole: 'patron', changedAt: now } }]],
    ['the same role', { type: 'ChangeRole', data: { role: 'patron', now } }, []],
    ['disabling', { type: 'DisableUser', data: { now } }, [{ type: 'UserDisabled', data: { userId, disabledAt: now } }]],
    ['enabling an active account', { type: 'EnableUser', data: { now } }, []],
    ['a profile change (only what changed)', { type: 'ChangeProfile', data: { email: 'a@example.com', now } }, [{ type: 'UserProfileChanged', data: { userId, email: 'a@example.com', changedAt: now } }]],
    ['an empty profile change', { type: 'ChangeProfile', data: { now } }, []],
    ['a password change', { type: 'ChangePassword', data: { by: 'admin', now } }, [{ type: 'PasswordChanged', data: { userId, by: 'admin', changedAt: now } }]],
    ['an erasure', { type: 'EraseUser', data: { now } }, [{ type: 'UserErased', data: { userId, erasedAt: now } }]],
  ])('given an active account, when %s, then its events', (_, command, events) => {
    expect(decide(command, given(registered))).toEqual(events);
  });

  it('given a disabled account, enabling it emits UserEnabled and it is active again', () => {
    const disabled: UserEvent = { type: 'UserDisabled', data: { userId, disabledAt: now } };
    const events = decide({ type: 'EnableUser', data: { now } }, given(registered, disabled));
    expect(events).toEqual([{ type: 'UserEnabled', data: { userId, enabledAt: now } }]);
    expect(given(registered, disabled, ...events).status).toBe('active');
  });

  it('given an erased account, every command is refused as an unknown user', () => {
    const erased = given(registered, { type: 'UserErased', data: { userId, erasedAt: now } });
    for (const command of [{ type: 'ChangeRole', data: { role: 'chef', now } }, { type: 'DisableUser', data: { now } }, { type: 'EraseUser', data: { now } }] as const) {
      expect(() => decide(command, erased)).toThrow(UserNotFoundError);
    }
  });

  it('an active admin is an admin that is not disabled', () => {
    const admin = given({ ...registered, data: { ...registered.data, role: 'admin' } });
    expect(isActiveAdmin(admin)).toBe(true);
    expect(isActiveAdmin(given({ ...registered, data: { ...registered.data, role: 'admin' } }, { type: 'UserDisabled', data: { userId, disabledAt: now } }))).toBe(false);
    expect(isActiveAdmin(given(registered))).toBe(false);
  });
});

describe('user names', () => {
  it.each([
    ['Alice', 'alice'],
    ['ＡＬＩＣＥ', 'alice'], // full-width letters fold under NFKC
    ['ﬁnn', 'finn'], // a ligature
    ['Zoë', 'zoë'],
  ])('normalizes %s to the key %s', (raw, key) => {
    expect(normalizeUserName(raw)).toMatchObject({ key });
  });

  it.each([['al'], ['a'.repeat(65)], ['al ice'], ['al\tice'], ['al\u0000ice'], ['al\u200bice'], ['']])('refuses %j', (raw) => {
    expect(normalizeUserName(raw)).toMatchObject({ path: 'user_name' });
  });
});

describe('password policy', () => {
  // A stand-in for the dictionary adapter: the port compares case-insensitively.
  const commonPasswords = { isCommon: (password: string) => ['password', '12345678', 'password1'].includes(password.toLowerCase()) };
  const check = (password: string, userNameKey?: string) => checkPassword(password, { userNameKey, commonPasswords });

  it.each([
    ['short', 'VALIDATION_FAILED', 'at least 8'],
    ['x'.repeat(1025), 'VALIDATION_FAILED', 'at most 1024 bytes'],
    ['é'.repeat(513), 'VALIDATION_FAILED', 'at most 1024 bytes'], // 513 characters, 1026 bytes
    ['password', 'PASSWORD_TOO_COMMON', 'too common'],
    ['12345678', 'PASSWORD_TOO_COMMON', 'too common'],
    ['Password1', 'PASSWORD_TOO_COMMON', 'too common'],
    ['alice123', 'PASSWORD_CONTAINS_USER_NAME', 'must not contain the user name'],
    ['my name is ALICE123!', 'PASSWORD_CONTAINS_USER_NAME', 'must not contain the user name'],
    ['ｍｙ ａｌｉｃｅ１２３ pass', 'PASSWORD_CONTAINS_USER_NAME', 'must not contain the user name'], // full-width: equal after NFKC
  ])('refuses %j with %s', (password, code, message) => {
    const refusal = check(password, 'alice123');
    expect(refusal?.code).toBe(code);
    expect(refusal?.error).toEqual({ path: 'password', message: expect.stringContaining(message) });
  });

  it('accepts a long passphrase in any script', () => {
    expect(check('пароль-достаточно-длинный', 'alice')).toBeNull();
  });

  it('checks no user name when the user name itself is invalid', () => {
    expect(check('a perfectly fine passphrase')).toBeNull();
  });
});
