import { ClaimTakenError, EmailTakenError, RoleElevationForbiddenError, UserNameTakenError, ValidationError } from '../shared/errors.js';
import type { FieldError } from '../shared/errors.js';
import { UserId, userStreamId } from '../shared/ids.js';
import type { Claim, CommonPasswords, UserView } from '../ports.js';
import { checkPassword } from '../user/password-policy.js';
import { defaultRole, type Role } from '../user/role.js';
import { decide, initialUser } from '../user/user.js';
import { isFieldError, normalizeUserName } from '../user/user-name.js';
import { metadataFor, type AuthDeps, type Principal, type RequestContext } from './deps.js';

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

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

const validate = (input: RegisterUserInput, commonPasswords: CommonPasswords) => {
  const errors: FieldError[] = [];
  const userName = normalizeUserName(input.userName);
  if (isFieldError(userName)) errors.push(userName);
  const password = checkPassword(input.password, { userNameKey: isFieldError(userName) ? undefined : userName.key, commonPasswords });
  if (password) errors.push(password.error);
  const email = input.email ? input.email.trim() : null;
  if (email !== null && (email.length > 254 || !emailPattern.test(email))) {
    errors.push({ path: 'email', message: 'must be a valid email address' });
  }
  const name = input.name?.trim() || null;
  if (name !== null && name.length > 200) errors.push({ path: 'name', message: 'must be at most 200 characters long' });
  if (errors.length > 0 || isFieldError(userName)) {
    // The password rule's own code only when it is the one thing wrong.
    throw new ValidationError(errors, errors.length === 1 && password ? password.code : 'VALIDATION_FAILED');
  }
  return { userName, email, name };
};

/**
 * Creates an account. The first account of an empty system becomes admin whatever it asked for
 * (bootstrap); when several race for it, a unique claim lets exactly one win and the others are
 * decided again as ordinary sign-ups. Otherwise only an admin may choose a role.
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
  let bootstrap = !isAdmin && !(await deps.users.hasAnyUser());
  if (!isAdmin && !bootstrap && requestedRole !== defaultRole) throw new RoleElevationForbiddenError();

  const passwordHash = await deps.passwordHasher.hash(input.password);

  for (;;) {
    const userId = UserId(deps.ids.newId());
    const now = deps.clock.now();
    const role: Role = bootstrap ? 'admin' : isAdmin ? requestedRole : defaultRole;
    const events = decide(
      {
        type: 'RegisterUser',
        data: { userId, userName: userName.display, userNameKey: userName.key, email, name, role, bootstrap, registeredAt: now.toISOString() },
      },
      initialUser,
    );
    const claims: Claim[] = [{ kind: 'user_name', value: userName.key }];
    if (email !== null) claims.push({ kind: 'email', value: email.toLowerCase() });
    if (bootstrap) claims.push({ kind: 'bootstrap_admin', value: 'first-account' });
    try {
      await deps.eventStore.appendToStream(userStreamId(userId), events, {
        expectedVersion: 'no_stream',
        metadata: metadataFor(context, now, {
          clientId: actor.clientId ?? undefined,
          actorUserId: actor.principal?.userId,
        }),
        claims,
        credentials: [{ kind: 'password', userId, hash: passwordHash }],
      });
      const at = now.toISOString();
      return { id: userId, userName: userName.display, email, name, role, createdAt: at, updatedAt: at };
    } catch (error) {
      if (!(error instanceof ClaimTakenError)) throw error;
      if (error.kind === 'user_name') throw new UserNameTakenError();
      if (error.kind === 'email') throw new EmailTakenError();
      // Another first sign-up won the bootstrap: this one is an ordinary self-registration.
      bootstrap = false;
      if (requestedRole !== defaultRole) throw new RoleElevationForbiddenError();
    }
  }
};
