import { z } from 'zod';
import { role, roles } from './roles.js';
import { secret, text } from './text.js';

/**
 * Account management as REST and tRPC both take it and answer it: each field's schema is written
 * once here; the tRPC inputs and outputs are camelCase, the REST bodies, queries and resources the
 * API's snake_case views of them.
 */

// Every text field that reaches the account use cases, defined once.
const password = secret();
const profileText = text().nullish();
const opaque = text();

const limit = z.number().int().min(1, 'must be from 1 to 200').max(200, 'must be from 1 to 200');

/** The body of `POST /users` (the seed's); unknown fields are ignored. */
export const registerBody = z.object({
  user_name: text(),
  password: secret(),
  grant_type: z.literal('password', { error: 'must be "password" when present' }).optional(),
  email: text().nullish(),
  name: text().nullish(),
  role: role.optional(),
});

/** `users.register`. */
export const registerInput = z.object({
  userName: text(),
  password: secret(),
  email: text().nullish(),
  name: text().nullish(),
  role: z.enum(roles).optional(),
});

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
  limit: z
    .string()
    .regex(/^\d+$/u, 'must be a whole number from 1 to 200')
    .transform(Number)
    .pipe(limit)
    .default(50)
    .meta({ description: 'Accounts per page, from 1 to 200; 50 when absent.' }),
  cursor: opaque.optional().meta({ description: 'The `next_cursor` of the page before; the first page without it.' }),
  role: role.optional().meta({ description: 'Only accounts of this role.' }),
  disabled: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((value) => value === 'true')
    .optional()
    .meta({ description: 'Only disabled (`true`) or only active (`false`) accounts.' }),
  q: opaque.optional().meta({ description: 'A user-name prefix, compared as logins compare names (NFKC, case-folded).' }),
});

/** The body of `PATCH /users/{id}`: `null` clears `name` or `email`. */
export const updateUserBody = z.object({
  role: role.optional(),
  disabled: z.boolean({ error: 'must be true or false' }).optional(),
  name: profileText,
  email: profileText,
});

/** `users.update`. */
export const updateUserInput = updateUserBody.extend({ userId: opaque });

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

const userId = z.uuid();
/** ISO 8601 UTC, as `Date.prototype.toISOString` writes it. */
const instant = z.iso.datetime();

/** The user resource, in the API's snake_case: what `POST /users`, `GET /users/{id}` and `PATCH /users/{id}` answer. */
export const userResource = z
  .object({
    id: userId,
    user_name: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    role,
    disabled: z.boolean().meta({ description: 'A disabled account cannot log in; its sessions ended when it was disabled.' }),
    created_at: instant,
    updated_at: instant,
  })
  .meta({ id: 'User' });

export type UserResource = z.output<typeof userResource>;

/** A page of `GET /users`, ordered by user name; `next_cursor` is null on the last page. */
export const userPage = z.object({ items: z.array(userResource), next_cursor: z.string().nullable() }).meta({ id: 'UserPage' });

export type UserPage = z.output<typeof userPage>;

/** A user as tRPC answers it and the SDK shows it: the user resource, camelCase. */
export const userView = z.object({
  id: userId,
  userName: z.string(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  role,
  disabled: z.boolean(),
  createdAt: instant,
  updatedAt: instant,
});

export type UserView = z.output<typeof userView>;

/** `users.list`'s answer. */
export const userPageView = z.object({ items: z.array(userView).readonly(), nextCursor: z.string().nullable() });

export type UserPageView = z.output<typeof userPageView>;

const toUserView = (user: UserResource): UserView => ({
  id: user.id,
  userName: user.user_name,
  email: user.email,
  name: user.name,
  role: user.role,
  disabled: user.disabled,
  createdAt: user.created_at,
  updatedAt: user.updated_at,
});

/**
 * Reads a user resource off the wire into its camelCase view; refuses anything else.
 *
 * @example
 * const user = readUser.parse(await response.json()); // { id, userName, role, ... }
 */
export const readUser = userResource.transform(toUserView);

/** Reads a page of `GET /users` into `{ items: UserView[], nextCursor }`. */
export const readUserPage = userPage.transform((page): UserPageView => ({ items: page.items.map(toUserView), nextCursor: page.next_cursor }));
