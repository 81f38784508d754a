import type { FieldError } from '@pos-auth/domain';
import type { z } from 'zod';

/**
 * The text rule itself (`text()`, `secret()`) is the contract's (`@pos-auth/contract`): every REST
 * body and query, token-endpoint parameter, Basic credential and tRPC input passes it. These turn
 * what it refuses into the API's field errors.
 */

/**
 * zod's issues as the API's field errors. `root` names the whole value when an issue has no path
 * (`(body)` in REST, `(input)` in tRPC, or the parameter's name for a single value). The messages
 * are the schemas' own: `text()` and `secret()` say "is required" and "must be a string".
 */
export const fieldErrors = (error: z.ZodError, root: string): FieldError[] =>
  error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || root, message: issue.message }));

/** One readable line for field errors: `userName: is required; password: must not contain U+0000`. */
export const describeFieldErrors = (errors: readonly FieldError[]): string =>
  errors.map((field) => `${field.path}: ${field.message}`).join('; ');
