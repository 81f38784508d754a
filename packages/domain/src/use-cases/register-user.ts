import { ClaimTakenError, EmailTakenError, RoleElevationForbiddenError, UserNameTakenError, ValidationError, WrongExpectedVersionError } from '../shared/errors.js';
import type { FieldError } from '../shared/errors.js';
import { UserId, adminRosterStreamId, userStreamId } from '../shared/ids.js';
import type { Claim, CommonPasswords, UserView } from '../ports.js';
import { checkPassword } from '../user/password-policy.js';
import { defaultRole, type Role } from '../user/role.js';
import { userDecider } from '../user/user.js';
import { isFieldError, normalizeUserName } from '../user/user-name.js';
import { conflictAttempts, metadataFor, type AuthDeps, type Principal, type RequestContext } from './deps.js';
import { loadRoster, rosterWriteFor } from './roster.js';
import { fresh, writeOf } from './streams.js';
import { validateProfile } from './profile.js';

export interface RegisterUserInput {
  readonly userName: string;
  readonly password: string;
  readonly email?: string | null | undefined;
  readonly name?: string | null | undefined;
  readonly role?: Role | undefined;
}

/** Who is asking: nobody (self-registration), or the holder of an access token. */
export interface RegisterUserActor {
  readonly principal: Principal | null;
  readonly clientId: string | null;
}

const validate = (input: RegisterUserInput, commonPasswords: CommonPasswords) => {
  const errors: FieldError[] = [];
  const userName = normalizeUserName(input.userName);
  if (isFieldError(userName)) errors.push(userName);
  const password = checkPassword(input.password, { userNameKey: isFieldError(userName) ? undefined : userName.key, commonPasswords });
  if (password) errors.push(password.error);
  const profile = validateProfile({ email: input.email ?? null, name: input.name ?? null }, errors);
  if (errors.length > 0 || isFieldError(userName)) {
    // The password rule's own code only when it is the one thing wrong.
    throw new ValidationError(errors, errors.length === 1 && password ? password.code : 'VALIDATION_FAILED');
  }
  return { userName, email: profile.email ?? null, name: profile.name ?? null };
};

/**
 * Creates an account. The first account of an empty system becomes admin whatever it asked for
 * (bootstrap): it opens the admin roster, whose stream can be created once. The bootstrap is
 * decided on the very roster version the write expects (no roster yet), so when several first
 * sign-ups race exactly one wins and the others are decided again as ordinary sign-ups.
 * Otherwise only an admin may choose a role.
 */
export const registerUser = async (
  deps: AuthDeps,
  input: RegisterUserInput,
  actor: RegisterUserActor,
  context: RequestContext,
): Promise<UserView> => {
  const { userName, email, name } = validate(input, deps.commonPasswords);
  const isAdmin = actor.principal?.role === 'admin';
  const requestedRole = input.role ?? defaultRole;
  if (!isAdmin && requestedRole !== defaultRole && (await deps.users.hasAnyUser())) throw new RoleElevationForbiddenError();

  // Hashing is the expensive part: once, before any attempt, never inside a transaction.
  const passwordHash = await deps.passwordHasher.hash(input.password);

  for (let attempt = 1; ; attempt += 1) {
    const roster = await loadRoster(deps);
    // A database from before the roster has users but no roster: not an empty system.
    const bootstrap = !isAdmin && roster.state.status === 'none' && !(await deps.users.hasAnyUser());
    if (!isAdmin && !bootstrap && requestedRole !== defaultRole) throw new RoleElevationForbiddenError();
    const role: Role = bootstrap ? 'admin' : isAdmin ? requestedRole : defaultRole;
    const userId = UserId(deps.ids.newId());
    const now = deps.clock.now();
    const events = userDecider.decide(
      {
        type: 'RegisterUser',
        data: { userId, userName: userName.display, userNameKey: userName.key, email, name, role, bootstrap, registeredAt: now.toISOString() },
      },
      userDecider.initialState,
    );
    const claims: Claim[] = [{ kind: 'user_name', value: userName.key }];
    if (email !== null) claims.push({ kind: 'email', value: email.toLowerCase() });
    try {
      const rosterWrite = await rosterWriteFor(deps, { userId, wasActiveAdmin: false, isActiveAdmin: role === 'admin', now }, roster);
      await deps.eventStore.append(
        [writeOf(userDecider, fresh(userDecider, userStreamId(userId)), events, { claims }), ...(rosterWrite === null ? [] : [rosterWrite])],
        {
          metadata: metadataFor(context, now, { clientId: actor.clientId ?? undefined, actorUserId: actor.principal?.userId }),
          credentials: [{ kind: 'password', userId, hash: passwordHash }],
        },
      );
      const at = now.toISOString();
      return { id: userId, userName: userName.display, email, name, role, disabled: false, createdAt: at, updatedAt: at };
    } catch (error) {
      if (error instanceof ClaimTakenError) throw error.kind === 'email' ? new EmailTakenError() : new UserNameTakenError();
      // The roster moved (another first sign-up won the bootstrap, or an admin changed): decide again.
      const rosterRace = error instanceof WrongExpectedVersionError && error.streamId === adminRosterStreamId;
      if (!rosterRace || attempt >= conflictAttempts) throw error;
      await deps.backoff.wait(attempt);
    }
  }
};
