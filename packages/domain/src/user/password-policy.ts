import type { FieldError, ValidationErrorCode } from '../shared/errors.js';
import type { CommonPasswords } from '../ports.js';

/**
 * NIST SP 800-63B-4 §3.1.1.2: a length floor, a generous ceiling, no composition rules, and no
 * password that is on a list of common passwords or contains the user name. The ceiling is in
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

/** Why a password is refused: the field error, and the code the refusal carries when it stands alone. */
export interface PasswordRefusal {
  readonly code: ValidationErrorCode;
  readonly error: FieldError;
}

const refusal = (code: ValidationErrorCode, message: string): PasswordRefusal => ({ code, error: { path: 'password', message } });

/**
 * Checks a new password against the policy; null when it is acceptable. `userNameKey` is the
 * user name's comparison key (NFKC, case-folded; absent when the user name itself is invalid):
 * the password, keyed the same way, must not contain it.
 */
export const checkPassword = (
  password: string,
  context: { readonly userNameKey?: string | undefined; readonly commonPasswords: CommonPasswords },
): PasswordRefusal | null => {
  if ([...password].length < passwordPolicy.minCharacters) {
    return refusal('VALIDATION_FAILED', `must be at least ${passwordPolicy.minCharacters} characters long`);
  }
  if (utf8Length(password) > passwordPolicy.maxBytes) {
    return refusal('VALIDATION_FAILED', `must be at most ${passwordPolicy.maxBytes} bytes long`);
  }
  if (context.commonPasswords.isCommon(password)) {
    return refusal('PASSWORD_TOO_COMMON', 'is too common: it is on a list of frequent or leaked passwords');
  }
  const { userNameKey } = context;
  if (userNameKey !== undefined && password.normalize('NFKC').toLowerCase().normalize('NFKC').includes(userNameKey)) {
    return refusal('PASSWORD_CONTAINS_USER_NAME', 'must not contain the user name');
  }
  return null;
};
