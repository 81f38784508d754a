import type { FieldError } from '../shared/errors.js';

export const userNameLength = { min: 3, max: 64 } as const;

/** Whitespace, control, format (zero-width) and separator characters are not allowed. */
const forbidden = /[\p{White_Space}\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

export interface NormalizedUserName {
  /** What the user typed, NFKC-normalized: the name shown back. */
  readonly display: string;
  /** The comparison key: NFKC, then case-folded. Unique across users. */
  readonly key: string;
}

/**
 * Normalizes a user name, or returns why it cannot be one. NFKC first, so that compatibility
 * variants (full-width letters, ligatures) compare equal; then case-folding for the key.
 */
export const normalizeUserName = (raw: string): NormalizedUserName | FieldError => {
  const display = raw.normalize('NFKC');
  const length = [...display].length;
  if (length < userNameLength.min || length > userNameLength.max) {
    return {
      path: 'user_name',
      message: `must be ${userNameLength.min} to ${userNameLength.max} characters long`,
    };
  }
  if (forbidden.test(display)) {
    return { path: 'user_name', message: 'must not contain whitespace or control characters' };
  }
  return { display, key: userNameKeyOf(display) };
};

export const isFieldError = (value: object): value is FieldError => 'message' in value;

/**
 * The comparison form of any typed text, valid user name or not: what the back-off of failed
 * logins is keyed by, so that invalid names are throttled like valid ones.
 */
export const userNameKeyOf = (raw: string): string => raw.normalize('NFKC').toLowerCase().normalize('NFKC');
