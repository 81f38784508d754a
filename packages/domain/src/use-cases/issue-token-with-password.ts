import { InvalidGrantError } from '../shared/errors.js';
import { SessionId, sessionStreamId, unknownUserLoginsStreamId, userStreamId, type ClientId } from '../shared/ids.js';
import { decide as decideSession, initialSession } from '../session/session.js';
import { decide as decideUser, initialUser } from '../user/user.js';
import { isFieldError, normalizeUserName } from '../user/user-name.js';
import { metadataFor, type AuthDeps, type RequestContext } from './deps.js';
import { mintTokenPair, type IssuedTokens } from './tokens.js';

export interface PasswordGrantInput {
  /** Already authenticated (see `authenticateClient`). */
  readonly clientId: ClientId;
  readonly userName: string;
  readonly password: string;
  readonly scope?: string | null | undefined;
}

const wrongCredentials = (reason: string) =>
  new InvalidGrantError('The user name or password is incorrect.', reason);

/**
 * The OAuth 2.0 password grant: checks the user's password and starts a session. An unknown user
 * name costs one verify against a dummy hash and one `LoginFailed`, exactly as a wrong password
 * does, so neither the answer nor its timing tells them apart.
 */
export const issueTokenWithPassword = async (
  deps: AuthDeps,
  input: PasswordGrantInput,
  context: RequestContext,
): Promise<IssuedTokens> => {
  const userName = normalizeUserName(input.userName);
  const credentials = isFieldError(userName) ? null : await deps.users.findCredentialsByUserName(userName.key);
  const passwordMatches = await deps.passwordHasher.verify(
    credentials?.passwordHash ?? deps.passwordHasher.dummyHash,
    input.password,
  );
  const now = deps.clock.now();

  if (credentials === null || !passwordMatches) {
    const reason = credentials === null ? 'unknown_user' : 'wrong_password';
    const events = decideUser(
      {
        type: 'RecordFailedLogin',
        data: {
          userId: credentials?.userId ?? null,
          // By code points: a cut between the halves of a surrogate pair would leave text that jsonb refuses.
          attemptedUserName: isFieldError(userName) ? [...input.userName].slice(0, 64).join('') : userName.display,
          clientId: input.clientId,
          reason,
          failedAt: now.toISOString(),
        },
      },
      initialUser,
    );
    await deps.eventStore.appendToStream(
      credentials ? userStreamId(credentials.userId) : unknownUserLoginsStreamId,
      events,
      { expectedVersion: 'any', metadata: metadataFor(context, now, { clientId: input.clientId }) },
    );
    throw wrongCredentials(reason);
  }

  const sessionId = SessionId(deps.ids.newId());
  const { issued, pair } = mintTokenPair(deps, now);
  const events = decideSession(
    {
      type: 'StartSession',
      data: {
        ...pair,
        sessionId,
        userId: credentials.userId,
        clientId: input.clientId,
        grantType: 'password',
        scope: input.scope ?? null,
        issuedAt: now.toISOString(),
      },
    },
    initialSession,
  );
  await deps.eventStore.appendToStream(sessionStreamId(sessionId), events, {
    expectedVersion: 'no_stream',
    metadata: metadataFor(context, now, { clientId: input.clientId, actorUserId: credentials.userId }),
  });
  return issued;
};
