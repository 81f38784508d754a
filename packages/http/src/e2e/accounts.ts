import { expect } from 'vitest';
import type { ClientSeed } from '../config.js';
import { basicAuth } from '../testing.js';
import { json, request } from './http.js';

/** Account and login steps over real HTTP, for end-to-end tests of what comes after them. */

export const password = 'correct horse battery staple';

export interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Creates an account through `POST /users` (as `admin` when an admin's token is given) and
 * returns its id.
 *
 * @example
 * const chefId = await signUp(server.url, 'chef-1', { role: 'chef', adminToken });
 */
export const signUp = async (
  baseUrl: string,
  userName: string,
  options: { readonly role?: string; readonly adminToken?: string } = {},
): Promise<string> => {
  const reply = await request(
    `${baseUrl}/users`,
    json({ user_name: userName, password, ...(options.role === undefined ? {} : { role: options.role }) }, options.adminToken === undefined ? {} : bearer(options.adminToken)),
  );
  expect(reply.status, reply.text).toBe(201);
  return reply.body.id as string;
};

/**
 * A password login through `POST /auth/token`: a new session.
 *
 * @example
 * const { access_token } = await logIn(server.url, server.client, 'chef-1');
 */
export const logIn = async (baseUrl: string, client: ClientSeed, userName: string, secret = password): Promise<Tokens> => {
  const reply = await request(`${baseUrl}/auth/token`, json({ grant_type: 'password', user_name: userName, password: secret }, { authorization: basicAuth(client) }));
  expect(reply.status, reply.text).toBe(201);
  return reply.body as Tokens;
};

/** `POST /auth/refresh-token` with the refresh token as the seed sends it; the reply as is. */
export const refresh = (baseUrl: string, refreshToken: string) =>
  request(`${baseUrl}/auth/refresh-token`, { method: 'POST', headers: bearer(refreshToken) });

/** `GET /users/me`: 200 while the access token works, 401 once it does not. */
export const me = (baseUrl: string, accessToken: string) => request(`${baseUrl}/users/me`, { headers: bearer(accessToken) });
