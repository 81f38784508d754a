import { Router, type Request, type RequestHandler, type Response } from 'express';
import { oauthParameters, type OAuthParameter } from '@pos-auth/contract';
import { InvalidClientError, refreshToken, type AuthDeps, type ClientCredentialsInput, type IssuedTokens } from '@pos-auth/domain';
import { describeFieldErrors, fieldErrors } from '../input.js';
import { tokenResponseOf } from '../resources.js';
import { noteClient } from '../observability/requests.js';
import { grantToken, type TokenGrant } from '../token-grants.js';
import { EdgeError, invalidRequest, methodNotAllowed } from './errors.js';
import { readAuthorization } from './credentials.js';
import { accepts, formBody, jsonBody, requestContext, requireParsedBody } from './request.js';

export type Body = Record<string, unknown>;

/**
 * One parameter: absent, or a single string that passes its rule in the contract (a secret's or
 * text's). Given twice (`a=1&a=2`) is an error (RFC 6749 §3.2).
 */
export const param = (body: Body, name: OAuthParameter): string | undefined => {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) throw invalidRequest(`The parameter ${name} is given more than once.`);
  const parsed = oauthParameters[name].safeParse(value);
  // The OAuth error shape has no field list: the description names the parameter.
  if (!parsed.success) throw invalidRequest(describeFieldErrors(fieldErrors(parsed.error, name)));
  return parsed.data;
};

export const required = (body: Body, name: OAuthParameter, alias?: OAuthParameter): string => {
  const value = param(body, name) ?? (alias === undefined ? undefined : param(body, alias));
  if (value === undefined) throw invalidRequest(`The parameter ${name} is required.`);
  return value;
};

const unsupportedGrantType = (grantType: string) =>
  new EdgeError(400, 'unsupported_grant_type', 'Unsupported grant type', `The grant type "${grantType.slice(0, 64)}" is not supported.`);

const readGrant = (body: Body): TokenGrant => {
  const grantType = required(body, 'grant_type');
  switch (grantType) {
    case 'password':
      return {
        grantType,
        userName: required(body, 'user_name', 'username'),
        password: required(body, 'password'),
        scope: param(body, 'scope'),
      };
    case 'refresh_token':
      return { grantType, refreshToken: required(body, 'refresh_token') };
    default:
      throw unsupportedGrantType(grantType);
  }
};

/** `client_secret_basic` (the seed), or `client_secret_post` for stock clients; never both. */
export const readClientCredentials = (req: Request, body: Body): ClientCredentialsInput => {
  const authorization = readAuthorization(req);
  const postedId = param(body, 'client_id');
  const postedSecret = param(body, 'client_secret');
  if (authorization.scheme === 'basic') {
    if (postedSecret !== undefined) throw invalidRequest('Use one client authentication method, not two.');
    return authorization.credentials;
  }
  if (postedId !== undefined && postedSecret !== undefined) return { clientId: postedId, clientSecret: postedSecret };
  throw new InvalidClientError('no_client_credentials');
};

const sendTokens = (res: Response, status: 200 | 201, tokens: IssuedTokens) => {
  res.status(status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(tokenResponseOf(tokens));
};

/** The seed's refresh: the token in `Authorization: Bearer`, or in the body as `refresh_token`. */
const presentedRefreshToken = (req: Request, body: Body): string => {
  const authorization = readAuthorization(req);
  const fromHeader = authorization.scheme === 'bearer' ? authorization.token : undefined;
  const fromBody = param(body, 'refresh_token');
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw invalidRequest('The refresh token in the Authorization header and in the body differ.');
  }
  const token = fromHeader ?? fromBody;
  if (token === undefined) throw invalidRequest('A refresh token is required, as a Bearer token or as refresh_token.');
  return token;
};

/** The body parsers of the `/auth/*` and `/oauth/*` endpoints: JSON or form, an empty body as `{}`. */
export const tokenBody: RequestHandler[] = [accepts('application/json or application/x-www-form-urlencoded'), jsonBody, formBody, requireParsedBody];

/** The endpoints whose errors take the OAuth shape (RFC 6749 §5.2, RFC 7009, RFC 7662); the app marks them (`oauthErrors`), before the per-IP limit runs. */
export const tokenEndpoints = ['/auth/token', '/auth/refresh-token', '/oauth/token', '/oauth/revoke', '/oauth/introspect'];

export const authRoutes = (deps: AuthDeps): Router => {
  const router = Router();

  /** The seed's endpoint answers 201; the standard one 200, as stock OAuth clients require. */
  const tokenEndpoint = (status: 200 | 201) => async (req: Request, res: Response) => {
    const body = req.body as Body;
    const tokens = await grantToken(deps, readClientCredentials(req, body), readGrant(body), requestContext(req), (clientId) => noteClient(req, clientId));
    sendTokens(res, status, tokens);
  };
  router.route('/auth/token').post(...tokenBody, tokenEndpoint(201)).all(methodNotAllowed('POST'));
  router.route('/oauth/token').post(...tokenBody, tokenEndpoint(200)).all(methodNotAllowed('POST'));

  router
    .route('/auth/refresh-token')
    .post(...tokenBody, async (req, res) => {
      const body = req.body as Body;
      const grantType = param(body, 'grant_type');
      if (grantType !== undefined && grantType !== 'refresh_token') throw unsupportedGrantType(grantType);
      const tokens = await refreshToken(deps, { refreshToken: presentedRefreshToken(req, body), clientId: null }, requestContext(req));
      sendTokens(res, 201, tokens);
    })
    .all(methodNotAllowed('POST'));

  return router;
};
