import { createRequire } from 'node:module';
import {
  changePasswordBody,
  listUsersQuery,
  logoutQuery,
  oauthError,
  problemDetails,
  refreshTokenRequest,
  registerBody,
  resetPasswordBody,
  restEndpoints,
  tokenLookupRequest,
  tokenRequest,
  updateUserBody,
  type RestEndpoint,
} from '@pos-auth/contract';
import { z } from 'zod';
import { createDocument, type oas31, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import { basicChallenge, bearerChallenge, invalidTokenChallenge } from './rest/errors.js';

/**
 * The OpenAPI 3.1 document of the REST API (`GET /openapi.json`), generated from the contract's
 * schemas, the very ones the routes parse with and answer in: every endpoint of API.md with its
 * parameters, request bodies (in each media type it reads), and every status it answers with its
 * body and headers. tRPC is not REST: the description mentions it, the paths do not.
 */

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const description = `The REST API of pos-auth, the authentication service of the POS API: accounts, the OAuth 2.0
password grant with rotating refresh tokens, revocation (RFC 7009), introspection (RFC 7662) and
metadata (RFC 8414).

- **Errors**: the token, revocation and introspection endpoints answer RFC 6749 §5.2 errors
  (\`{"error", "error_description"}\`); every other endpoint answers RFC 9457 problem details
  (\`application/problem+json\`, with a stable \`code\` and, for a 400, \`errors: [{path, message}]\`).
- **Bodies**: JSON (any charset); the \`/auth/*\` and \`/oauth/*\` endpoints also take
  \`application/x-www-form-urlencoded\`. Bodies may be gzip, deflate or br encoded. An empty body is
  an empty object; unknown fields are ignored; a parameter of the token endpoints given twice is
  refused. No text field may hold U+0000, an unpaired surrogate, or (except passwords and client
  secrets) a control character.
- **Headers**: every response carries \`X-Request-Id\` (the caller's, when it sends a sane one) and
  \`Cache-Control: no-store\`; a URL and headers over 16 KiB are a 431 on any path.
- **Limits**: repeated failed logins for one user name, and too many requests from one IP to
  \`POST /users\`, \`/auth/*\` and \`/oauth/*\`, are a 429 with \`Retry-After\`; while the database is
  unreachable, requests that need it answer 503 with \`Retry-After\`.
- **tRPC**: the same use cases are also a tRPC router at \`/trpc\` (\`users.*\`, \`sessions.*\`,
  \`auth.*\`; the SDK's typed client is built on it). It is not described here.`;

// Headers, as the responses below send them.
const requestId = z
  .string()
  .regex(/^[\w.:-]{1,128}$/u)
  .meta({
    description: "The caller's `X-Request-Id` when it sent a sane one, else a new id; also in the event metadata and the logs.",
    header: { id: 'X-Request-Id' },
  });
const retryAfter = z.int().min(0).meta({ description: 'Whole seconds to wait before trying again.', header: { id: 'Retry-After' } });
const basicChallengeHeader = z.literal(basicChallenge).meta({ description: 'The client must authenticate (RFC 6749 §5.2).' });
const bearerChallengeHeader = z
  .enum([bearerChallenge, invalidTokenChallenge])
  .meta({ description: 'RFC 6750 §3: `error="invalid_token"` when a token was sent and is not valid.' });
const location = z
  .string()
  .regex(/^\/users\/[0-9a-f-]{36}$/u)
  .meta({ description: 'The new account: `/users/{id}`.' });
const noStore = { 'Cache-Control': z.literal('no-store'), Pragma: z.literal('no-cache') };

type ResponseHeaders = Record<string, z.ZodType>;

const withRequestId = (headers: ResponseHeaders = {}) => z.object({ 'X-Request-Id': requestId, ...headers });

const problem = (description: string, headers?: ResponseHeaders): ZodOpenApiResponseObject => ({
  description,
  headers: withRequestId(headers),
  content: { 'application/problem+json': { schema: problemDetails } },
});

const oauthFailure = (description: string, headers?: ResponseHeaders): ZodOpenApiResponseObject => ({
  description,
  headers: withRequestId(headers),
  content: { 'application/json': { schema: oauthError } },
});

/** Node's HTTP parser refuses the request before any route: no request id is given yet. */
const headerFieldsTooLarge: ZodOpenApiResponseObject = {
  id: 'RequestHeaderFieldsTooLarge',
  description: 'The URL and headers exceed 16 KiB.',
  content: { 'application/problem+json': { schema: problemDetails } },
};

/** An endpoint's success, as the contract declares it (status and body). */
const success = (endpoint: RestEndpoint, description: string, headers?: ResponseHeaders): Record<string, ZodOpenApiResponseObject> => {
  const { status, body } = restEndpoints[endpoint];
  return {
    [status]: {
      description,
      headers: withRequestId(headers),
      ...(body === null ? {} : { content: { 'application/json': { schema: body } } }),
    },
  };
};

/** A response that several operations share: one component, referenced by each. */
const shared = (id: string, response: ZodOpenApiResponseObject): ZodOpenApiResponseObject => ({ id, ...response });

const problems = {
  invalid: shared(
    'InvalidRequest',
    problem('The request is invalid: the body, a query parameter, or a path that does not percent-decode; `errors` names each invalid field.'),
  ),
  unauthenticated: shared(
    'Unauthenticated',
    problem('No valid access token (`Authorization: Bearer`); a Basic challenge answers an `Authorization: Basic` header that does not decode.', {
      'WWW-Authenticate': z.union([bearerChallengeHeader, basicChallengeHeader]),
    }),
  ),
  forbidden: shared('Forbidden', problem("The caller may not do this (`FORBIDDEN`): an admin-only endpoint, or another user's data.")),
  notFound: shared('NotFound', problem('No such user or session (an id that is not a UUID names none either).')),
  tooLarge: shared('ContentTooLarge', problem('The body is too large (16 KiB) or has too many parameters.')),
  unsupportedMediaType: shared('UnsupportedMediaType', problem("The body's media type, charset or content encoding is not one this endpoint reads.")),
  tooManyRequests: shared('TooManyRequests', problem('Too many requests from this IP; wait `Retry-After` seconds.', { 'Retry-After': retryAfter })),
  unavailable: shared('ServiceUnavailable', problem('The database is unreachable; try again after `Retry-After` seconds.', { 'Retry-After': retryAfter })),
  internal: shared('InternalServerError', problem('An unexpected failure; its cause is logged with the request id, never shown.')),
};

const oauthFailures = {
  invalid: shared(
    'OAuthInvalidRequest',
    oauthFailure(
      '`invalid_request` (a missing, repeated or invalid parameter, an unparsable body), `invalid_grant` (a wrong user name or password, an unknown, expired, revoked or reused refresh token) or `unsupported_grant_type`.',
    ),
  ),
  invalidClient: shared(
    'OAuthInvalidClient',
    oauthFailure('`invalid_client`: missing or wrong client credentials, or a malformed `Authorization: Basic` header.', {
      'WWW-Authenticate': basicChallengeHeader,
    }),
  ),
  tooLarge: shared('OAuthContentTooLarge', oauthFailure('`invalid_request`: the body is too large (16 KiB) or has too many parameters.')),
  unsupportedMediaType: shared(
    'OAuthUnsupportedMediaType',
    oauthFailure('`invalid_request`: the body is neither JSON nor a form, or its content encoding is not gzip, deflate or br.'),
  ),
  tooManyRequests: shared(
    'OAuthTooManyRequests',
    oauthFailure(
      '`slow_down`: too many failed logins for this user name (a back-off window), or too many requests from this IP; wait `Retry-After` seconds.',
      { 'Retry-After': retryAfter },
    ),
  ),
  unavailable: shared(
    'OAuthServiceUnavailable',
    oauthFailure('`temporarily_unavailable`: the database is unreachable; try again after `Retry-After` seconds.', { 'Retry-After': retryAfter }),
  ),
  internal: shared('OAuthServerError', oauthFailure('`server_error`: an unexpected failure; its cause is logged with the request id, never shown.')),
};

const userId = z.string().meta({ description: 'A user id (a UUID).' });
const sessionId = z.string().meta({ description: 'A session id (a UUID).' });

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const jsonOrForm = <T extends z.ZodType>(schema: T) => ({ ...json(schema), 'application/x-www-form-urlencoded': { schema } });

const asUser = [{ bearer: [] }];
const asClient = [{ clientBasic: [] }, {}];

/** Every operation, by the contract's endpoint name: an endpoint missing here fails to compile. */
const operations: Record<RestEndpoint, ZodOpenApiOperationObject> = {
  'POST /users': {
    operationId: 'register',
    tags: ['Accounts'],
    summary: 'Create an account',
    description:
      "Self-registration needs no credentials; a `Basic` header, when sent, must name a valid client, and a `Bearer` token a valid session. An admin's token may create any role; otherwise the account is a `patron`, except the first account of an empty system, which becomes its `admin`. Asking for a role above `patron` without an admin's token is a 403.",
    security: [{}, { clientBasic: [] }, { bearer: [] }],
    requestBody: { required: true, content: json(registerBody) },
    responses: {
      ...success('POST /users', 'The account, created.', { Location: location }),
      400: problems.invalid,
      401: problem('A `Basic` header with bad client credentials, or a `Bearer` token that is not valid.', {
        'WWW-Authenticate': z.union([basicChallengeHeader, bearerChallengeHeader]),
      }),
      403: problem("A role above `patron` asked for without an admin's token (`ROLE_ELEVATION_FORBIDDEN`)."),
      409: problem('The user name or the email is taken (`USER_NAME_TAKEN`, `EMAIL_TAKEN`).'),
      413: problems.tooLarge,
      415: problems.unsupportedMediaType,
      429: problems.tooManyRequests,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'GET /users': {
    operationId: 'listUsers',
    tags: ['Accounts'],
    summary: 'List accounts (admin)',
    description: 'Cursor pages ordered by user name; `next_cursor` is null on the last page.',
    security: asUser,
    requestParams: { query: listUsersQuery },
    responses: {
      ...success('GET /users', 'A page of accounts.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      403: problems.forbidden,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'GET /users/me': {
    operationId: 'getMe',
    tags: ['Accounts'],
    summary: "The caller's account",
    security: asUser,
    responses: {
      ...success('GET /users/me', "The caller's account."),
      401: problems.unauthenticated,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'GET /users/{id}': {
    operationId: 'getUser',
    tags: ['Accounts'],
    summary: "An account: the caller's own, or anyone's for an admin",
    security: asUser,
    requestParams: { path: z.object({ id: userId }) },
    responses: {
      ...success('GET /users/{id}', 'The account.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      403: problems.forbidden,
      404: problems.notFound,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'PATCH /users/{id}': {
    operationId: 'updateUser',
    tags: ['Accounts'],
    summary: 'Change an account (admin)',
    description:
      "Any of `role`, `disabled`, `name`, `email` (`null` clears `name` or `email`). Disabling ends all the user's sessions at once. The last active admin can be neither demoted nor disabled (409 `LAST_ADMIN`).",
    security: asUser,
    requestParams: { path: z.object({ id: userId }) },
    requestBody: { required: true, content: json(updateUserBody) },
    responses: {
      ...success('PATCH /users/{id}', 'The account, changed.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      403: problems.forbidden,
      404: problems.notFound,
      409: problem('The email is taken (`EMAIL_TAKEN`), or this would leave no active admin (`LAST_ADMIN`).'),
      413: problems.tooLarge,
      415: problems.unsupportedMediaType,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'DELETE /users/{id}': {
    operationId: 'eraseUser',
    tags: ['Accounts'],
    summary: 'Erase an account (admin)',
    description:
      'Erases the person: their personal data in the event log becomes unreadable (crypto-shredding), every session ends, and the user name becomes free.',
    security: asUser,
    requestParams: { path: z.object({ id: userId }) },
    responses: {
      ...success('DELETE /users/{id}', 'Erased.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      403: problems.forbidden,
      404: problems.notFound,
      409: problem('This would leave no active admin (`LAST_ADMIN`).'),
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'POST /users/me/password': {
    operationId: 'changePassword',
    tags: ['Accounts'],
    summary: "Change the caller's password",
    description: "Ends the caller's other sessions. A wrong `current_password` is a 400 naming that field.",
    security: asUser,
    requestBody: { required: true, content: json(changePasswordBody) },
    responses: {
      ...success('POST /users/me/password', 'Changed.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      413: problems.tooLarge,
      415: problems.unsupportedMediaType,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'POST /users/{id}/password': {
    operationId: 'resetPassword',
    tags: ['Accounts'],
    summary: "Reset a user's password (admin)",
    description: 'Ends every session of that user.',
    security: asUser,
    requestParams: { path: z.object({ id: userId }) },
    requestBody: { required: true, content: json(resetPasswordBody) },
    responses: {
      ...success('POST /users/{id}/password', 'Reset.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      403: problems.forbidden,
      404: problems.notFound,
      413: problems.tooLarge,
      415: problems.unsupportedMediaType,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'GET /users/me/sessions': {
    operationId: 'listMySessions',
    tags: ['Sessions'],
    summary: "The caller's active sessions, newest first",
    security: asUser,
    responses: {
      ...success('GET /users/me/sessions', 'The active sessions.'),
      401: problems.unauthenticated,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'GET /users/{id}/sessions': {
    operationId: 'listSessions',
    tags: ['Sessions'],
    summary: "A user's active sessions, newest first: the caller's own, or anyone's for an admin",
    security: asUser,
    requestParams: { path: z.object({ id: userId }) },
    responses: {
      ...success('GET /users/{id}/sessions', 'The active sessions.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      403: problems.forbidden,
      404: problems.notFound,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'DELETE /users/me/sessions/{id}': {
    operationId: 'endMySession',
    tags: ['Sessions'],
    summary: "End one of the caller's sessions",
    security: asUser,
    requestParams: { path: z.object({ id: sessionId }) },
    responses: {
      ...success('DELETE /users/me/sessions/{id}', 'Ended.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      404: problems.notFound,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'DELETE /users/{id}/sessions/{sid}': {
    operationId: 'endSession',
    tags: ['Sessions'],
    summary: "End one of a user's sessions: the caller's own, or anyone's for an admin",
    security: asUser,
    requestParams: { path: z.object({ id: userId, sid: sessionId }) },
    responses: {
      ...success('DELETE /users/{id}/sessions/{sid}', 'Ended.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      403: problems.forbidden,
      404: problems.notFound,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'POST /auth/token': {
    operationId: 'token',
    tags: ['Tokens'],
    summary: "Log in with the password grant (or refresh): the seed's token endpoint",
    description:
      'Client authentication: `Authorization: Basic` (`client_secret_basic`) or `client_id` and `client_secret` in the body (`client_secret_post`). A wrong password, an unknown user name and a disabled account get the same answer. A refresh token presented here must have been issued to the authenticated client.',
    security: asClient,
    requestBody: { required: true, content: jsonOrForm(tokenRequest) },
    responses: {
      ...success('POST /auth/token', "A new session's tokens (or, for `refresh_token`, the rotated ones).", noStore),
      400: oauthFailures.invalid,
      401: oauthFailures.invalidClient,
      413: oauthFailures.tooLarge,
      415: oauthFailures.unsupportedMediaType,
      429: oauthFailures.tooManyRequests,
      500: oauthFailures.internal,
      503: oauthFailures.unavailable,
    },
  },
  'POST /auth/refresh-token': {
    operationId: 'refreshToken',
    tags: ['Tokens'],
    summary: "Rotate a refresh token: the seed's refresh endpoint",
    description:
      'The refresh token comes as `Authorization: Bearer <refresh_token>` or in the body as `refresh_token` (both at once must agree). No client authentication: the token is bound to its client. Presenting the parent again within `REFRESH_REUSE_GRACE` seconds of its rotation answers the same child; any other reuse ends the whole session.',
    security: [{ refreshToken: [] }, {}],
    requestBody: { content: jsonOrForm(refreshTokenRequest) },
    responses: {
      ...success('POST /auth/refresh-token', 'The rotated tokens.', noStore),
      400: oauthFailures.invalid,
      401: oauthFailures.invalidClient,
      413: oauthFailures.tooLarge,
      415: oauthFailures.unsupportedMediaType,
      429: oauthFailures.tooManyRequests,
      500: oauthFailures.internal,
      503: oauthFailures.unavailable,
    },
  },
  'POST /oauth/token': {
    operationId: 'oauthToken',
    tags: ['Tokens'],
    summary: 'The standard token endpoint (RFC 6749 §4.3, §6)',
    description: 'As `POST /auth/token`, answering 200 as stock OAuth clients expect; they send forms with `username`.',
    security: asClient,
    requestBody: { required: true, content: jsonOrForm(tokenRequest) },
    responses: {
      ...success('POST /oauth/token', "A new session's tokens (or, for `refresh_token`, the rotated ones).", noStore),
      400: oauthFailures.invalid,
      401: oauthFailures.invalidClient,
      413: oauthFailures.tooLarge,
      415: oauthFailures.unsupportedMediaType,
      429: oauthFailures.tooManyRequests,
      500: oauthFailures.internal,
      503: oauthFailures.unavailable,
    },
  },
  'POST /auth/logout': {
    operationId: 'logout',
    tags: ['Sessions'],
    summary: "End the caller's current session, their others, or all",
    description: 'A body, when sent, may be JSON or a form; it is not read.',
    security: asUser,
    requestParams: { query: logoutQuery },
    responses: {
      ...success('POST /auth/logout', 'Ended.'),
      400: problems.invalid,
      401: problems.unauthenticated,
      413: problems.tooLarge,
      415: problems.unsupportedMediaType,
      429: problems.tooManyRequests,
      500: problems.internal,
      503: problems.unavailable,
    },
  },
  'POST /oauth/revoke': {
    operationId: 'revoke',
    tags: ['Tokens'],
    summary: 'Revoke a token (RFC 7009)',
    description:
      'An access or a refresh token ends its whole session. An unknown token is a 200 too; a token issued to another client is a 400 `invalid_request`.',
    security: asClient,
    requestBody: { required: true, content: jsonOrForm(tokenLookupRequest) },
    responses: {
      ...success('POST /oauth/revoke', 'Revoked, or unknown.'),
      400: oauthFailures.invalid,
      401: oauthFailures.invalidClient,
      413: oauthFailures.tooLarge,
      415: oauthFailures.unsupportedMediaType,
      429: oauthFailures.tooManyRequests,
      500: oauthFailures.internal,
      503: oauthFailures.unavailable,
    },
  },
  'POST /oauth/introspect': {
    operationId: 'introspect',
    tags: ['Tokens'],
    summary: 'Introspect a token (RFC 7662)',
    security: asClient,
    requestBody: { required: true, content: jsonOrForm(tokenLookupRequest) },
    responses: {
      ...success('POST /oauth/introspect', 'Whether the token is active, and for whom; anything not active is only `{"active": false}`.'),
      400: oauthFailures.invalid,
      401: oauthFailures.invalidClient,
      413: oauthFailures.tooLarge,
      415: oauthFailures.unsupportedMediaType,
      429: oauthFailures.tooManyRequests,
      500: oauthFailures.internal,
      503: oauthFailures.unavailable,
    },
  },
  'GET /.well-known/oauth-authorization-server': {
    operationId: 'metadata',
    tags: ['Discovery'],
    summary: 'Authorization server metadata (RFC 8414)',
    responses: { ...success('GET /.well-known/oauth-authorization-server', 'The metadata, for `ISSUER`.'), 500: problems.internal },
  },
  'GET /.well-known/jwks.json': {
    operationId: 'jwks',
    tags: ['Discovery'],
    summary: 'The public keys that verify JWT access tokens (RFC 7517)',
    description:
      'Served in either access-token format. The one response that caches can keep: a rotation publishes its key at least `max-age` before the key signs.',
    responses: {
      ...success('GET /.well-known/jwks.json', 'The key set.', { 'Cache-Control': z.string().regex(/^public, max-age=\d+$/u) }),
      500: problems.internal,
    },
  },
  'GET /health/live': {
    operationId: 'live',
    tags: ['Health'],
    summary: 'Liveness: the process runs',
    responses: { ...success('GET /health/live', 'Live.'), 500: problems.internal },
  },
  'GET /health/ready': {
    operationId: 'ready',
    tags: ['Health'],
    summary: 'Readiness: the database is reachable and migrated',
    responses: {
      ...success('GET /health/ready', 'Ready.'),
      500: problems.internal,
      503: problem('Not ready: the database is not reachable or not migrated yet.'),
    },
  },
};

/** `METHOD /path` → OpenAPI paths; every operation may also get the parser's 431. */
const pathsOf = (byEndpoint: Record<RestEndpoint, ZodOpenApiOperationObject>): ZodOpenApiPathsObject => {
  const paths: ZodOpenApiPathsObject = {};
  for (const [endpoint, operation] of Object.entries(byEndpoint)) {
    const [method, path] = endpoint.split(' ') as [string, string];
    paths[path] = { ...paths[path], [method.toLowerCase()]: { ...operation, responses: { ...operation.responses, 431: headerFieldsTooLarge } } };
  }
  return paths;
};

/**
 * The OpenAPI 3.1 document for a service whose public base URL is `issuer` (no trailing slash).
 *
 * @example
 * app.get('/openapi.json', (_req, res) => res.json(openApiDocument('https://auth.pos.example')));
 */
export const openApiDocument = (issuer: string): oas31.OpenAPIObject =>
  createDocument({
    openapi: '3.1.0',
    info: { title: 'pos-auth', version, description },
    servers: [{ url: issuer }],
    tags: [
      { name: 'Accounts', description: 'Accounts and their management by admins.' },
      { name: 'Tokens', description: 'The OAuth 2.0 token, revocation and introspection endpoints.' },
      { name: 'Sessions', description: 'Logout and the active sessions of an account.' },
      { name: 'Discovery', description: 'What a stock OAuth client discovers.' },
      { name: 'Health', description: 'Probes for orchestrators.' },
    ],
    paths: pathsOf(operations),
    components: {
      securitySchemes: {
        clientBasic: {
          type: 'http',
          scheme: 'basic',
          description:
            'A client registered with pos-auth (`AUTH_CLIENTS`): `base64(urlencode(client_id) ":" urlencode(client_secret))` (RFC 6749 §2.3.1).',
        },
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token from the token endpoints.' },
        refreshToken: { type: 'http', scheme: 'bearer', description: 'A refresh token, as the seed sends it to `POST /auth/refresh-token`.' },
      },
    },
  });
