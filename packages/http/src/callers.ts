import {
  AuthenticationRequiredError,
  InvalidClientError,
  authenticateAccessToken,
  authenticateWithUser,
  authenticateClient,
  type AuthDeps,
  type ClientCredentialsInput,
  type Principal,
  type RegisterUserActor,
  type UserView,
} from '@pos-auth/domain';
import type { Authorization } from './rest/credentials.js';

/**
 * Who is calling, from the `Authorization` header: shared by REST and tRPC so that neither
 * accepts a caller the other would refuse.
 */

/** The holder of a valid bearer access token; no token at all is `AUTHENTICATION_REQUIRED`. */
export const requirePrincipal = async (deps: AuthDeps, authorization: Authorization): Promise<Principal> => {
  if (authorization.scheme !== 'bearer') throw new AuthenticationRequiredError();
  return authenticateAccessToken(deps, authorization.token);
};

/** The caller and their user resource, in the token check's one read (`GET /users/me`). */
export const requireCurrentUser = async (
  deps: AuthDeps,
  authorization: Authorization,
): Promise<{ readonly principal: Principal; readonly user: UserView }> => {
  if (authorization.scheme !== 'bearer') throw new AuthenticationRequiredError();
  return authenticateWithUser(deps, authorization.token);
};

/** Client credentials from `Authorization: Basic`; anything else is a failed client authentication. */
export const requireClientCredentials = (authorization: Authorization): ClientCredentialsInput => {
  if (authorization.scheme !== 'basic') throw new InvalidClientError('no_basic_credentials');
  return authorization.credentials;
};

/**
 * Self-registration needs no credentials, but credentials that are sent must be valid: a Basic
 * header names the client, a Bearer token the actor (an admin may choose the role).
 */
export const identifyRegistrant = async (deps: AuthDeps, authorization: Authorization): Promise<RegisterUserActor> => {
  switch (authorization.scheme) {
    case 'none':
      return { principal: null, clientId: null };
    case 'basic':
      return { principal: null, clientId: await authenticateClient(deps, authorization.credentials) };
    case 'bearer': {
      const principal = await authenticateAccessToken(deps, authorization.token);
      return { principal, clientId: principal.clientId };
    }
    case 'other':
      throw new InvalidClientError('unsupported_authorization_scheme');
    default:
      return authorization satisfies never;
  }
};
