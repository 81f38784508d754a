import type { CommonPasswords } from '@pos-auth/domain';

export interface LoadedCommonPasswords extends CommonPasswords {
  /** How many distinct passwords the list holds. */
  readonly size: number;
}

const key = (password: string) => password.normalize('NFKC').toLowerCase();

/**
 * The common-password dictionary of `@zxcvbn-ts/language-common` (49,233 passwords, ranked by
 * frequency in leaked password sets), loaded once into a set: call it once per process, at the
 * composition root. Passwords compare case-insensitively after NFKC, so `PassWord1` and the
 * full-width `ｐａｓｓｗｏｒｄ１` are as common as `password1`.
 *
 * @example
 * const commonPasswords = await loadZxcvbnCommonPasswords();
 * commonPasswords.isCommon('Password1'); // true
 */
export const loadZxcvbnCommonPasswords = async (): Promise<LoadedCommonPasswords> => {
  const { dictionary } = await import('@zxcvbn-ts/language-common');
  const passwords = new Set(dictionary['passwords-common'].map(key));
  return { size: passwords.size, isCommon: (password) => passwords.has(key(password)) };
};
