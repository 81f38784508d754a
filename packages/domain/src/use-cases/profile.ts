import type { FieldError } from '../shared/errors.js';

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;
export const maxNameLength = 200;

/**
 * Checks and normalizes the optional profile fields; pushes what is wrong onto `errors`. An
 * absent field stays absent (`undefined`: no change), an empty one becomes null (cleared).
 */
export const validateProfile = (
  input: { readonly email?: string | null | undefined; readonly name?: string | null | undefined },
  errors: FieldError[],
): { readonly email?: string | null; readonly name?: string | null } => {
  const result: { email?: string | null; name?: string | null } = {};
  if (input.email !== undefined) {
    const email = input.email === null ? null : input.email.trim() || null;
    if (email !== null && (email.length > 254 || !emailPattern.test(email))) {
      errors.push({ path: 'email', message: 'must be a valid email address' });
    }
    result.email = email;
  }
  if (input.name !== undefined) {
    const name = input.name === null ? null : input.name.trim() || null;
    if (name !== null && [...name].length > maxNameLength) {
      errors.push({ path: 'name', message: `must be at most ${maxNameLength} characters long` });
    }
    result.name = name;
  }
  return result;
};
