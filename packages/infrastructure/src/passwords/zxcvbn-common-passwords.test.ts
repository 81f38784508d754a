import { describe, expect, it } from 'vitest';
import { loadZxcvbnCommonPasswords } from './zxcvbn-common-passwords.js';

describe('the zxcvbn common-password dictionary', async () => {
  const commonPasswords = await loadZxcvbnCommonPasswords();

  it('holds at least 30,000 passwords (API.md "Abuse limits")', () => {
    expect(commonPasswords.size).toBeGreaterThanOrEqual(30_000);
  });

  it.each(['password', '12345678', 'password1', 'PASSWORD1', 'PassWord1', 'ｐａｓｓｗｏｒｄ１', 'iloveyou', 'qwertyuiop'])('knows %j', (password) => {
    expect(commonPasswords.isCommon(password)).toBe(true);
  });

  it.each(['correct horse battery staple', 'tab\there\u0007bell!', 'пароль-достаточно-длинный', ''])('does not know %j', (password) => {
    expect(commonPasswords.isCommon(password)).toBe(false);
  });
});
