import type { z } from 'zod';
import { liveness, readiness } from './health.js';
import { authorizationServerMetadata, introspectionResponse, jsonWebKeySet, readTokens, tokenResponse } from './oauth.js';
import { readSessions, sessionList } from './sessions.js';
import { readUser, readUserPage, userPage, userResource } from './users.js';

interface Success {
  /** The status of a success. */
  readonly status: number;
  /** Its body as the wire carries it; null for none. */
  readonly body: z.ZodType | null;
  /** Reads the body into what a client works with (camelCase where the SDK shows camelCase); null for none. */
  readonly read: z.ZodType | null;
}

const answers = <Body extends z.ZodType, Read extends z.ZodType>(status: number, body: Body, read: Read) => ({ status, body, read });
const nothing = (status: 200 | 204) => ({ status, body: null, read: null });

/**
 * Every REST endpoint of API.md, by `METHOD /path` (OpenAPI's path templates), with what it
 * answers on success: the status, the body's wire schema (what the OpenAPI document describes), and
 * a reader that parses the body into its camelCase view. Errors are problem details
 * (`problemDetails`), or on the token, revocation and introspection endpoints an OAuth error
 * (`oauthError`).
 *
 * @example
 * const response = await fetch(`${baseUrl}/users/me`, { headers: { authorization: `Bearer ${accessToken}` } });
 * if (response.status === restEndpoints['GET /users/me'].status) {
 *   const user = readResponse('GET /users/me', await response.json()); // { id, userName, role, ... }
 * }
 */
export const restEndpoints = {
  'POST /users': answers(201, userResource, readUser),
  'GET /users': answers(200, userPage, readUserPage),
  'GET /users/me': answers(200, userResource, readUser),
  'GET /users/{id}': answers(200, userResource, readUser),
  'PATCH /users/{id}': answers(200, userResource, readUser),
  'DELETE /users/{id}': nothing(204),
  'POST /users/me/password': nothing(204),
  'POST /users/{id}/password': nothing(204),
  'GET /users/me/sessions': answers(200, sessionList, readSessions),
  'GET /users/{id}/sessions': answers(200, sessionList, readSessions),
  'DELETE /users/me/sessions/{id}': nothing(204),
  'DELETE /users/{id}/sessions/{sid}': nothing(204),
  'POST /auth/token': answers(201, tokenResponse, readTokens),
  'POST /auth/refresh-token': answers(201, tokenResponse, readTokens),
  'POST /oauth/token': answers(200, tokenResponse, readTokens),
  'POST /auth/logout': nothing(204),
  'POST /oauth/revoke': nothing(200),
  'POST /oauth/introspect': answers(200, introspectionResponse, introspectionResponse),
  'GET /.well-known/oauth-authorization-server': answers(200, authorizationServerMetadata, authorizationServerMetadata),
  'GET /.well-known/jwks.json': answers(200, jsonWebKeySet, jsonWebKeySet),
  'GET /health/live': answers(200, liveness, liveness),
  'GET /health/ready': answers(200, readiness, readiness),
} as const satisfies Record<string, Success>;

export type RestEndpoint = keyof typeof restEndpoints;

/** The endpoints whose success carries a body. */
export type RestEndpointWithBody = {
  [E in RestEndpoint]: (typeof restEndpoints)[E]['read'] extends z.ZodType ? E : never;
}[RestEndpoint];

/** What `readResponse` makes of an endpoint's success body. */
export type ResponseView<E extends RestEndpointWithBody> = z.output<NonNullable<(typeof restEndpoints)[E]['read']>>;

/**
 * Parses the body of an endpoint's success into its view (camelCase for users, sessions and
 * tokens; RFC names for introspection and metadata). Throws zod's `ZodError` when the body is not
 * what the endpoint answers.
 *
 * @example
 * const tokens = readResponse('POST /auth/token', await response.json()); // { accessToken, refreshToken, expiresAt, ... }
 */
export const readResponse = <E extends RestEndpointWithBody>(endpoint: E, body: unknown): ResponseView<E> => {
  const reader: z.ZodType = restEndpoints[endpoint].read;
  return reader.parse(body) as ResponseView<E>;
};
