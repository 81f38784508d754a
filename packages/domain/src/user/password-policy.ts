import type { FieldError } from '../shared/errors.js';

/**
 * NIST SP 800-63B: a length floor, a generous ceiling, no composition rules. The ceiling is in
 * UTF-8 bytes (1 KiB) so that hashing cost stays bounded whatever the script.
 */
export const passwordPolicy = { minCharacters: 8, maxBytes: 1024 } as const;

const utf8Length = (text: string): number => {
  let bytes = 0;
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return bytes;
};

export const checkPassword = (password: string, userNameKey?: string): FieldError | null => {
  if ([...password].length < passwordPolicy.minCharacters) {
    return { path: 'password', message: `must be at least ${passwordPolicy.minCharacters} characters long` };
  }
  if (utf8Length(password) > passwordPolicy.maxBytes) {
    return { path: 'password', message: `must be at most ${passwordPolicy.maxBytes} bytes long` };
  }
  if (userNameKey !== undefined && password.normalize('NFKC').toLowerCase() === userNameKey) {
    return { path: 'password', message: 'must not be the user name' };
  }
  return null;
};
