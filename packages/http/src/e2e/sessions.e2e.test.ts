import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { bearer, logIn, me, refresh, signUp, type Tokens } from './accounts.js';
import { form, request } from './http.js';

/**
 * Logout, session listings, RFC 7009 revocation, RFC 7662 introspection and RFC 8414 metadata over
 * real HTTP on a real database: what a token answers after each, on the very next request.
 */
describe('sessions over HTTP', () => {
  let server: TestServer;
  const other = { clientId: 'kitchen-display', clientSecret: 'kitchen-display-secret' };

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { clients: [{ clientId: 'admin-panel', clientSecret: 'admin-panel-secret' }, other] });
    await signUp(server.url, 'first-admin');
  });
  afterAll(async () => {
    await server?.close();
  });

  const login = (userName: string) => logIn(server.url, server.client, userName);

  /** Whether a session's newest tokens still work: its access token on /users/me, its refresh token once. */
  const works = async (tokens: Tokens) => ({ access: (await me(server.url, tokens.access_token)).status, refresh: (await refresh(server.url, tokens.refresh_token)).status });
  const ended = { access: 401, refresh: 400 };

  /** Why each ended session of a user ended, as the log records it. */
  const endReasons = async (userId: string) =>
    (
      await server.pool.query<{ reason: string }>(
        "SELECT data->>'reason' AS reason FROM events WHERE type = 'SessionRevoked' AND data->>'userId' = $1 ORDER BY global_position",
        [userId],
      )
    ).rows.map((row) => row.reason);

  const logout = (tokens: Tokens, query = '') => request(`${server.url}/auth/logout${query}`, { method: 'POST', headers: bearer(tokens.access_token) });
  const mySessions = (tokens: Tokens) => request(`${server.url}/users/me/sessions`, { headers: bearer(tokens.access_token) });

  describe('POST /auth/logout', () => {
    it('ends the current session by default, the others with scope=others, every one with scope=all', async () => {
      const louId = await signUp(server.url, 'lou');
      const [first, second, third] = [await login('lou'), await login('lou'), await login('lou')];

      expect((await logout(first, '?scope=others')).status).toBe(204);
      expect(await works(second)).toEqual(ended);
      expect(await works(third)).toEqual(ended);
      const listed = await mySessions(first);
      expect(listed.body).toEqual([expect.objectContaining({ current: true })]);

      expect((await me(server.url, first.access_token)).status).toBe(200);
      const logoutReply = await logout(first);
      expect(logoutReply.status).toBe(204);
      expect(logoutReply.text).toBe('');
      expect((await me(server.url, first.access_token)).status).toBe(401);
      // The token that logged out is no token any more.
      expect((await logout(first)).status).toBe(401);

      const [fourth, fifth] = [await login('lou'), await login('lou')];
      expect((await logout(fourth, '?scope=all')).status).toBe(204);
      expect(await works(fourth)).toEqual(ended);
      expect(await works(fifth)).toEqual(ended);
      expect(await endReasons(louId)).toEqual(Array(5).fill('logout'));
    });

    it('answers 401 with a Bearer challenge without a valid token, and 400 naming scope for another value', async () => {
      const none = await request(`${server.url}/auth/logout`, { method: 'POST' });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth"');
      expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const bad = await request(`${server.url}/auth/logout`, { method: 'POST', headers: bearer('not-a-token') });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth", error="invalid_token"');

      await signUp(server.url, 'scoper');
      const tokens = await login('scoper');
      const wrongScope = await logout(tokens, '?scope=everything');
      expect(wrongScope.status).toBe(400);
      expect(wrongScope.body).toMatchObject({ status: 400, errors: [{ path: 'scope', message: 'must be current, others or all' }] });
      expect((await me(server.url, tokens.access_token)).status).toBe(200);
    });
  });

  describe('the sessions of an account', () => {
    it('lists the active sessions, newest first, with where they came from and which is the caller', async () => {
      await signUp(server.url, 'lister');
      const older = await logIn(server.url, server.client, 'lister');
      const newer = await (async () => {
        const reply = await request(`${server.url}/auth/token`, {
          method: 'POST',
          headers: { authorization: basicAuth(server.client), 'content-type': 'application/json', 'user-agent': 'pos-terminal/2.1' },
          body: JSON.stringify({ grant_type: 'password', user_name: 'lister', password: 'correct horse battery staple' }),
        });
        return reply.body as Tokens;
      })();
      const reply = await mySessions(newer);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toHaveLength(2);
      const [first, second] = reply.body;
      expect(Object.keys(first).sort()).toEqual(['client_id', 'created_at', 'current', 'expires_at', 'id', 'ip', 'last_refreshed_at', 'user_agent']);
      expect(first).toMatchObject({ client_id: 'admin-panel', current: true, ip: expect.stringMatching(/127\.0\.0\.1/), user_agent: 'pos-terminal/2.1', last_refreshed_at: null });
      expect(second).toMatchObject({ current: false });
      expect(Date.parse(first.created_at)).toBeGreaterThanOrEqual(Date.parse(second.created_at));

      await refresh(server.url, older.refresh_token);
      const afterRefresh = (await mySessions(newer)).body.find((session: { id: string }) => session.id === second.id);
      expect(afterRefresh.last_refreshed_at).not.toBeNull();
    });

    it('ends one of its own sessions; another user\'s session id is not found there', async () => {
      await signUp(server.url, 'ender');
      const [kept, doomed] = [await login('ender'), await login('ender')];
      const sessions = (await mySessions(kept)).body as { id: string; current: boolean }[];
      const doomedId = sessions.find((session) => !session.current)!.id;

      const reply = await request(`${server.url}/users/me/sessions/${doomedId}`, { method: 'DELETE', headers: bearer(kept.access_token) });
      expect(reply.status).toBe(204);
      expect(await works(doomed)).toEqual(ended);
      expect((await mySessions(kept)).body).toEqual([expect.objectContaining({ current: true })]);

      // Ended already, unknown, not a UUID, or someone else's: 404, and nothing else happens.
      await signUp(server.url, 'bystander');
      const bystander = await login('bystander');
      const theirs = ((await mySessions(bystander)).body as { id: string }[])[0]!.id;
      for (const id of [doomedId, '5f0c2d3e-0000-4000-8000-00000000dead', 'not-a-uuid', theirs]) {
        const missing = await request(`${server.url}/users/me/sessions/${id}`, { method: 'DELETE', headers: bearer(kept.access_token) });
        expect(missing.status).toBe(404);
        expect(missing.body).toMatchObject({ code: 'SESSION_NOT_FOUND' });
      }
      expect((await me(server.url, bystander.access_token)).status).toBe(200);
    });
  });

  describe('POST /oauth/revoke (RFC 7009)', () => {
    const revoke = (params: Record<string, string> | [string, string][], headers: Record<string, string> = { authorization: basicAuth(server.client) }) =>
      request(`${server.url}/oauth/revoke`, form(params, headers));

    it('a refresh token (client_secret_basic) or an access token (client_secret_post) ends its whole session', async () => {
      const revokeeId = await signUp(server.url, 'revokee');
      const viaRefresh = await login('revokee');
      const reply = await revoke({ token: viaRefresh.refresh_token, token_type_hint: 'refresh_token' });
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('');
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(await works(viaRefresh)).toEqual(ended);

      const viaAccess = await login('revokee');
      // A wrong hint is only a hint: the token is found whatever it says.
      const posted = await revoke({ token: viaAccess.access_token, token_type_hint: 'refresh_token', client_id: server.client.clientId, client_secret: server.client.clientSecret }, {});
      expect(posted.status).toBe(200);
      expect(await works(viaAccess)).toEqual(ended);
      // Revoked already, and never issued: 200 all the same.
      expect((await revoke({ token: viaAccess.access_token })).status).toBe(200);
      expect((await revoke({ token: 'never-issued' })).status).toBe(200);
      expect(await endReasons(revokeeId)).toEqual(['revoked_by_client', 'revoked_by_client']);
    });

    it('refuses a token of another client (400), a bad client (401) and a missing or doubled token (400), in the OAuth shape', async () => {
      await signUp(server.url, 'guarded');
      const tokens = await login('guarded');
      const foreign = await revoke({ token: tokens.refresh_token }, { authorization: basicAuth(other) });
      expect(foreign.status).toBe(400);
      expect(foreign.body).toEqual({ error: 'invalid_request', error_description: 'The client is not authorized to revoke this token.' });

      const wrongSecret = await revoke({ token: tokens.refresh_token }, { authorization: basicAuth({ ...server.client, clientSecret: 'wrong' }) });
      expect(wrongSecret.status).toBe(401);
      expect(wrongSecret.headers.get('www-authenticate')).toBe('Basic realm="pos-auth"');
      expect(wrongSecret.body).toMatchObject({ error: 'invalid_client' });
      expect((await revoke({ token: tokens.refresh_token }, {})).body).toMatchObject({ error: 'invalid_client' });

      expect(await revoke({})).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(await revoke([['token', tokens.refresh_token], ['token', tokens.access_token]])).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect((await request(`${server.url}/oauth/revoke`, { method: 'GET' })).status).toBe(405);

      // None of them touched the session.
      expect((await me(server.url, tokens.access_token)).status).toBe(200);
      expect((await refresh(server.url, tokens.refresh_token)).status).toBe(201);
    });
  });

  describe('POST /oauth/introspect (RFC 7662)', () => {
    const introspect = (token: string, client = server.client) => request(`${server.url}/oauth/introspect`, form({ token }, { authorization: basicAuth(client) }));

    it('describes an active access or refresh token, and anything else only as inactive', async () => {
      const userId = await signUp(server.url, 'inspected');
      const parent = await login('inspected');
      const reply = await introspect(parent.access_token);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.headers.get('pragma')).toBe('no-cache');
      const sessionId = ((await mySessions(parent)).body as { id: string }[])[0]!.id;
      const now = Math.floor(Date.now() / 1000);
      expect(reply.body).toEqual({
        active: true,
        token_type: 'Bearer',
        client_id: 'admin-panel',
        username: 'inspected',
        sub: userId,
        sid: sessionId,
        role: 'patron',
        exp: expect.any(Number),
        iat: expect.any(Number),
      });
      expect(reply.body.exp - reply.body.iat).toBe(1800);
      expect(Math.abs(reply.body.iat - now)).toBeLessThanOrEqual(5);

      // Any authenticated client may ask (a resource server asks about tokens it did not get issued).
      expect((await introspect(parent.refresh_token, other)).body).toMatchObject({ active: true, token_type: 'refresh_token', sid: sessionId, sub: userId });

      const child = (await refresh(server.url, parent.refresh_token)).body as Tokens;
      expect((await introspect(child.refresh_token)).body).toMatchObject({ active: true, token_type: 'refresh_token' });
      // The parent is rotated away: not active, even inside the grace window.
      expect((await introspect(parent.refresh_token)).body).toEqual({ active: false });
      expect((await introspect('never-issued')).body).toEqual({ active: false });

      await logout(child);
      expect((await introspect(child.access_token)).body).toEqual({ active: false });
      expect((await introspect(child.refresh_token)).body).toEqual({ active: false });
    });

    it('gives the scope of a session that has one', async () => {
      await signUp(server.url, 'scoped');
      const login = await request(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { authorization: basicAuth(server.client), 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', user_name: 'scoped', password: 'correct horse battery staple', scope: 'pos:orders' }),
      });
      expect((await introspect(login.body.access_token)).body).toMatchObject({ active: true, scope: 'pos:orders' });
      expect((await introspect(login.body.refresh_token)).body).toMatchObject({ active: true, scope: 'pos:orders' });
    });

    it('refuses a bad client with 401 invalid_client', async () => {
      const reply = await introspect('whatever', { ...server.client, clientSecret: 'wrong' });
      expect(reply.status).toBe(401);
      expect(reply.body).toMatchObject({ error: 'invalid_client' });
    });
  });

  it('GET /.well-known/oauth-authorization-server describes the endpoints (RFC 8414)', async () => {
    const reply = await request(`${server.url}/.well-known/oauth-authorization-server`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      issuer: server.url,
      token_endpoint: `${server.url}/oauth/token`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      introspection_endpoint: `${server.url}/oauth/introspect`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
    expect((await request(`${server.url}/.well-known/oauth-authorization-server`, { method: 'POST' })).status).toBe(405);
  });
});
