import {
  authenticateClient,
  issueTokenWithPassword,
  refreshToken,
  type AuthDeps,
  type ClientCredentialsInput,
  type ClientId,
  type IssuedTokens,
  type RequestContext,
} from '@pos-auth/domain';

export type TokenGrant =
  | { readonly grantType: 'password'; readonly userName: string; readonly password: string; readonly scope?: string | undefined }
  | { readonly grantType: 'refresh_token'; readonly refreshToken: string };

/**
 * The token endpoint's logic, shared by `/auth/token`, `/oauth/token` and tRPC: authenticate the
 * client (`identified` is told who, for the request's log line), then run the grant. A refresh
 * token presented here must have been issued to that client.
 */
export const grantToken = async (
  deps: AuthDeps,
  client: ClientCredentialsInput,
  grant: TokenGrant,
  context: RequestContext,
  identified: (clientId: ClientId) => void,
): Promise<IssuedTokens> => {
  const clientId = await authenticateClient(deps, client);
  identified(clientId);
  return grant.grantType === 'password'
    ? issueTokenWithPassword(deps, { clientId, userName: grant.userName, password: grant.password, scope: grant.scope }, context)
    : refreshToken(deps, { refreshToken: grant.refreshToken, clientId }, context);
};
