import { describe, expect, it } from 'vitest';
import { ClientId, UserId } from '../shared/ids.js';
import { checkPassword } from './password-policy.js';
import { decide, evolve, initialUser, type UserRegistered } from './user.js';
import { normalizeUserName } from './user-name.js';

const registered: UserRegistered = {
  type: 'UserRegistered',
  data: {
    userId: UserId('u1'),
    userName: 'Alice',
    userNameKey: 'alice',
    email: null,
    name: null,
    role: 'patron',
    bootstrap: false,
    registeredAt: '2026-01-01T00:00:00.000Z',
  },
};

describe('user decider', () => {
  it('given nothing, when RegisterUser, then UserRegistered', () => {
    expect(decide({ type: 'RegisterUser', data: registered.data }, initialUser)).toEqual([registered]);
  });

  it('refuses to register the same user twice (ids are fresh: a programmer error)', () => {
    expect(() => decide({ type: 'RegisterUser', data: registered.data }, evolve(initialUser, registered))).toThrow(TypeError);
  });

  it('counts failed logins', () => {
    const failed = decide(
      {
        type: 'RecordFailedLogin',
        data: { userId: UserId('u1'), attemptedUserName: 'Alice', clientId: ClientId('c'), reason: 'wrong_password', failedAt: '2026-01-01T00:00:01.000Z' },
      },
      evolve(initialUser, registered),
    );
    expect(failed.map((event) => event.type)).toEqual(['LoginFailed']);
    expect(failed.reduce(evolve, evolve(initialUser, registered))).toMatchObject({ status: 'active', failedLogins: 1 });
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

  it.each([['al'], ['a'.repeat(65)], ['al ice'], ['al\tice'], ['al\u0000ice'], ['al\u200bice'], ['']])(
    'refuses %j',
    (raw) => {
      expect(normalizeUserName(raw)).toMatchObject({ path: 'user_name' });
    },
  );
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
