import { ClaimTakenError, EmailTakenError, UserNotFoundError, ValidationError, type FieldError } from '../shared/errors.js';
import { userStreamId, type UserId } from '../shared/ids.js';
import type { Page, StreamWrite, UserListQuery, UserView } from '../ports.js';
import { checkPassword } from '../user/password-policy.js';
import type { Role } from '../user/role.js';
import { isActiveAdmin, userDecider, type User, type UserCommand, type UserEvent } from '../user/user.js';
import { isFieldError, normalizeUserName, userNameKeyOf } from '../user/user-name.js';
import { requireAdmin, requireSelfOrAdmin } from './access.js';
import { metadataFor, retryOnConflict, type AuthDeps, type Principal, type RequestContext } from './deps.js';
import { validateProfile } from './profile.js';
import { rosterWriteFor } from './roster.js';
import { revokeSessionsOf } from './sessions.js';
import { load, writeOf } from './streams.js';

/** What `GET /users` takes: `q` is a user-name prefix as typed. */
export interface ListUsersInput extends Omit<UserListQuery, 'userNamePrefix'> {
  readonly q?: string | undefined;
}

/**
 * `GET /users`: cursor pages of accounts ordered by user name, admins only. `q` matches user names
 * that start with it as logins compare them (NFKC, case-folded): `ＢＯ` finds `bob`.
 */
export const listUsers = async (deps: AuthDeps, principal: Principal, input: ListUsersInput): Promise<Page<UserView>> => {
  requireAdmin(principal, 'list accounts');
  const { q, ...query } = input;
  return deps.users.listUsers({ ...query, userNamePrefix: q === undefined || q === '' ? undefined : userNameKeyOf(q) });
};

export interface UserChanges {
  readonly role?: Role | undefined;
  readonly disabled?: boolean | undefined;
  readonly name?: string | null | undefined;
  readonly email?: string | null | undefined;
}

const decideAll = (commands: readonly UserCommand[], state: User): { events: UserEvent[]; state: User } =>
  commands.reduce(
    (acc, command) => {
      const events = userDecider.decide(command, acc.state);
      return { events: [...acc.events, ...events], state: events.reduce(userDecider.evolve, acc.state) };
    },
    { events: [] as UserEvent[], state },
  );

/**
 * Runs user commands as one atomic write: the user's events, and the admin roster's when the user
 * becomes or stops being an active admin (refused for the last one). Returns the state before and after.
 */
const changeUser = async (
  deps: AuthDeps,
  userId: UserId,
  commands: (now: string) => readonly UserCommand[],
  context: RequestContext,
  principal: Principal,
  extra: Pick<StreamWrite, 'claims' | 'releaseClaims'> & { readonly credentials?: { readonly hash: string }; readonly erase?: boolean } = {},
): Promise<{ readonly before: User; readonly after: User }> =>
  retryOnConflict(deps, async () => {
    const user = await load(deps.eventStore, userDecider, userStreamId(userId));
    if (user.state.status === 'unregistered' || user.state.status === 'erased') throw new UserNotFoundError();
    const now = deps.clock.now();
    const { events, state } = decideAll(commands(now.toISOString()), user.state);
    if (events.length === 0) return { before: user.state, after: state };
    const roster = await rosterWriteFor(deps, { userId, wasActiveAdmin: isActiveAdmin(user.state), isActiveAdmin: isActiveAdmin(state), now });
    const { credentials, erase, ...claims } = extra;
    await deps.eventStore.append([writeOf(userDecider, user, events, claims), ...(roster === null ? [] : [roster])], {
      metadata: metadataFor(context, now, { clientId: principal.clientId, actorUserId: principal.userId }),
      ...(credentials === undefined ? {} : { credentials: [{ kind: 'password', userId, hash: credentials.hash }] }),
      ...(erase ? { erase: [userId] } : {}),
    });
    return { before: user.state, after: state };
  });

/**
 * `PATCH /users/{id}`, admins only: role, disabled, name, email. Disabling ends every session of the
 * user at once (their tokens are refused from the next request; the sessions are then recorded as
 * revoked). The last active admin can be neither demoted nor disabled.
 */
export const updateUser = async (
  deps: AuthDeps,
  principal: Principal,
  userId: UserId,
  changes: UserChanges,
  context: RequestContext,
): Promise<UserView> => {
  requireAdmin(principal, 'change accounts');
  const errors: FieldError[] = [];
  const profile = validateProfile({ email: changes.email, name: changes.name }, errors);
  if (errors.length > 0) throw new ValidationError(errors);
  const emailChange =
    profile.email === undefined
      ? {}
      : { releaseClaims: ['email'] as const, claims: profile.email === null ? [] : [{ kind: 'email' as const, value: profile.email.toLowerCase() }] };
  try {
    const { before, after } = await changeUser(
      deps,
      userId,
      (now) => [
        ...(changes.role === undefined ? [] : [{ type: 'ChangeRole', data: { role: changes.role, now } } as const]),
        ...(changes.disabled === undefined ? [] : [{ type: changes.disabled ? 'DisableUser' : 'EnableUser', data: { now } } as const]),
        ...(profile.name === undefined && profile.email === undefined ? [] : [{ type: 'ChangeProfile', data: { ...profile, now } } as const]),
      ],
      context,
      principal,
      emailChange,
    );
    if (before.status === 'active' && after.status === 'disabled') {
      await revokeSessionsOf(deps, userId, 'user_disabled', context, { clientId: principal.clientId, actorUserId: principal.userId });
    }
  } catch (error) {
    if (error instanceof ClaimTakenError) throw new EmailTakenError();
    throw error;
  }
  const user = await deps.users.getUser(userId);
  if (user === null) throw new UserNotFoundError();
  return user;
};

const checkNewPassword = async (deps: AuthDeps, userId: UserId, password: string): Promise<void> => {
  const user = await deps.users.getUser(userId);
  if (user === null) throw new UserNotFoundError();
  const userName = normalizeUserName(user.userName);
  const refusal = checkPassword(password, { userNameKey: isFieldError(userName) ? undefined : userName.key, commonPasswords: deps.commonPasswords });
  if (refusal !== null) throw new ValidationError([{ ...refusal.error, path: 'new_password' }], refusal.code);
};

/** `POST /users/me/password`: the user changes their own password; their other sessions end. */
export const changeOwnPassword = async (
  deps: AuthDeps,
  principal: Principal,
  input: { readonly currentPassword: string; readonly newPassword: string },
  context: RequestContext,
): Promise<void> => {
  await checkNewPassword(deps, principal.userId, input.newPassword);
  const stored = await deps.users.findPasswordHash(principal.userId);
  if (stored === null || !(await deps.passwordHasher.verify(stored, input.currentPassword))) {
    throw new ValidationError([{ path: 'current_password', message: 'is incorrect' }]);
  }
  const hash = await deps.passwordHasher.hash(input.newPassword);
  await changeUser(deps, principal.userId, (now) => [{ type: 'ChangePassword', data: { by: 'self', now } }], context, principal, { credentials: { hash } });
  await revokeSessionsOf(deps, principal.userId, 'password_changed', context, { clientId: principal.clientId, actorUserId: principal.userId }, principal.sessionId);
};

/** `POST /users/{id}/password`, admins only: sets a new password and ends every session of the user. */
export const resetPassword = async (
  deps: AuthDeps,
  principal: Principal,
  userId: UserId,
  newPassword: string,
  context: RequestContext,
): Promise<void> => {
  requireAdmin(principal, 'reset passwords');
  await checkNewPassword(deps, userId, newPassword);
  const hash = await deps.passwordHasher.hash(newPassword);
  await changeUser(deps, userId, (now) => [{ type: 'ChangePassword', data: { by: 'admin', now } }], context, principal, { credentials: { hash } });
  await revokeSessionsOf(deps, userId, 'password_changed', context, { clientId: principal.clientId, actorUserId: principal.userId });
};

/**
 * `DELETE /users/{id}`, admins only: erases the person (crypto-shredding). Their key is destroyed
 * in the same transaction as `UserErased`, so every personal field of every event about them reads
 * as erased, while the events, their order and their hash chain stay; their user name and email
 * become free; their sessions end. The last active admin cannot be erased.
 */
export const eraseUser = async (deps: AuthDeps, principal: Principal, userId: UserId, context: RequestContext): Promise<void> => {
  requireAdmin(principal, 'erase accounts');
  await changeUser(deps, userId, (now) => [{ type: 'EraseUser', data: { now } }], context, principal, {
    releaseClaims: ['user_name', 'email'],
    erase: true,
  });
  await revokeSessionsOf(deps, userId, 'user_erased', context, { clientId: principal.clientId, actorUserId: principal.userId });
};

