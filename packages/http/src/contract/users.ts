import { roles, type Page, type UserView } from '@pos-auth/domain';
import { z } from 'zod';
import { secret, text } from '../input.js';

/**
 * Account management as REST and tRPC both take it: each field's schema is written once here; the
 * tRPC inputs are camelCase, the REST bodies and queries the API's snake_case views of them.
 */

// Every text field that reaches the account use cases, defined once.
const password = secret();
const profileText = text().nullish();
const opaque = text();

const role = z.enum(roles, { error: `must be one of ${roles.join(', ')}` });
const limit = z.number().int().min(1, 'must be from 1 to 200').max(200, 'must be from 1 to 200');

/** `users.list`; `GET /users` takes `listUsersQuery`. */
export const listUsersInput = z.object({
  limit: limit.default(50),
  cursor: opaque.optional(),
  role: role.optional(),
  disabled: z.boolean().optional(),
  /** A user-name prefix, compared as logins compare names. */
  q: opaque.optional(),
});

/** The query string of `GET /users`: the same fields, as the text a URL carries. */
export const listUsersQuery = listUsersInput.extend({
  limit: z.string().regex(/^\d+$/u, 'must be a whole number from 1 to 200').transform(Number).pipe(limit).default(50),
  disabled: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true').optional(),
});

/** The body of `PATCH /users/{id}`. */
export const userChanges = z.object({
  role: role.optional(),
  disabled: z.boolean({ error: 'must be true or false' }).optional(),
  name: profileText,
  email: profileText,
});

/** `users.update`. */
export const updateUserInput = userChanges.extend({ userId: opaque });

/** `users.changePassword`. */
export const changePasswordInput = z.object({ currentPassword: password, newPassword: password });

/** The body of `POST /users/me/password`. */
export const changePasswordBody = z
  .object({ current_password: password, new_password: password })
  .transform((body) => ({ currentPassword: body.current_password, newPassword: body.new_password }));

/** `users.resetPassword`. */
export const resetPasswordInput = z.object({ userId: opaque, newPassword: password });

/** The body of `POST /users/{id}/password`. */
export const resetPasswordBody = z.object({ new_password: password }).transform((body) => ({ newPassword: body.new_password }));

/** `users.erase`. */
export const eraseUserInput = z.object({ userId: opaque });

/** The user resource in the API's snake_case. */
export const userResource = (user: UserView) => ({
  id: user.id,
  user_name: user.userName,
  email: user.email,
  name: user.name,
  role: user.role,
  disabled: user.disabled,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
});

/** A page of `GET /users`. */
export const userPage = (page: Page<UserView>) => ({ items: page.items.map(userResource), next_cursor: page.nextCursor });
