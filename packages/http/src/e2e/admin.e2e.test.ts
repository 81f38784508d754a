import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { bearer, logIn, me, password, refresh, signUp, type Tokens } from './accounts.js';
import { json, request, type Reply } from './http.js';

/**
 * Every admin endpoint of API.md ("Accounts and sessions for the admin panel") over real HTTP on a
 * real database with real argon2: pages under concurrent sign-ups, what disabling, password changes
 * and erasure do to sessions on the very next request, the last admin, and who gets 403.
 */
describe('account management over HTTP', () => {
  let server: TestServer;
  let admin: Tokens;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { poolMax: 20 });
    await signUp(server.url, 'root-admin');
    admin = await logIn(server.url, server.client, 'root-admin');
  });
  afterAll(async () => {
    await server?.close();
  });

  const login = (userName: string, secret = password) => logIn(server.url, server.client, userName, secret);
  const as = (tokens: Tokens) => bearer(tokens.access_token);
  const get = (path: string, tokens = admin) => request(`${server.url}${path}`, { headers: as(tokens) });
  const patch = (id: string, body: unknown, tokens = admin) =>
    request(`${server.url}/users/${id}`, { ...json(body, as(tokens)), method: 'PATCH' });
  const post = (path: string, body: unknown, tokens = admin) => request(`${server.url}${path}`, json(body, as(tokens)));
  const remove = (path: string, tokens = admin) => request(`${server.url}${path}`, { method: 'DELETE', headers: as(tokens) });

  /** A session's newest tokens on the very next request: 200/201 while it lives, 401/400 once ended. */
  const works = async (tokens: Tokens) => ({ access: (await me(server.url, tokens.access_token)).status, refresh: (await refresh(server.url, tokens.refresh_token)).status });
  const alive = { access: 200, refresh: 201 };
  const ended = { access: 401, refresh: 400 };

  /** Why each ended session of a user ended, as the log records it. */
  const endReasons = async (userId: string) =>
    (
      await server.pool.query<{ reason: string }>(
        "SELECT data->>'reason' AS reason FROM events WHERE type = 'SessionRevoked' AND data->>'userId' = $1 ORDER BY global_position",
        [userId],
      )
    ).rows.map((row) => row.reason);

  /** Every user name of a walk through `GET /users?<query>` with `limit`, page after page. */
  const walk = async (query: string, limit: number, between: () => Promise<unknown> = async () => {}) => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const reply: Reply = await get(`/users?limit=${limit}&${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(reply.status, reply.text).toBe(200);
      names.push(...reply.body.items.map((user: { user_name: string }) => user.user_name));
      cursor = reply.body.next_cursor;
      await between();
    } while (cursor !== null);
    return names;
  };

  describe('GET /users', () => {
    it('walks every account once, in user-name order, while others sign up concurrently', async () => {
      const existing = Array.from({ length: 40 }, (_, i) => `page-${String(i * 2).padStart(2, '0')}`);
      await Promise.all(existing.map((name) => signUp(server.url, name)));
      // Names that sort between the existing ones, on pages already read and on pages to come.
      const arriving = Array.from({ length: 40 }, (_, i) => `page-${String(i * 2 + 1).padStart(2, '0')}`);
      const signUps: Promise<string>[] = [];
      const names = await walk('q=page-', 7, async () => {
        signUps.push(...arriving.splice(0, 5).map((name) => signUp(server.url, name)));
      });
      // Whatever the walk was too quick to send.
      await Promise.all([...signUps, ...arriving.map((name) => signUp(server.url, name))]);

      expect(new Set(names).size).toBe(names.length);
      for (const name of existing) expect(names).toContain(name);
      expect(names).toEqual([...names].sort());
      expect(names.every((name) => name.startsWith('page-'))).toBe(true);
      // After the walk, a new one sees every account.
      expect(await walk('q=page-', 50)).toHaveLength(80);
    });

    it('pages by 50 by default, and filters by role, disabled and a user-name prefix compared as logins compare', async () => {
      const first = await get('/users');
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-control')).toBe('no-store');
      expect(first.body.items).toHaveLength(50);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      expect(first.body.items[0]).toEqual({
        id: expect.any(String),
        user_name: expect.any(String),
        email: null,
        name: null,
        role: expect.any(String),
        disabled: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });

      await Promise.all(['Chef-Ann', 'Chef-Bob'].map((name) => signUp(server.url, name, { role: 'chef', adminToken: admin.access_token })));
      const bob = (await get('/users?q=chef-bob')).body.items[0];
      expect((await patch(bob.id, { disabled: true })).status).toBe(200);

      expect(await walk('role=chef', 1)).toEqual(['Chef-Ann', 'Chef-Bob']);
      expect(await walk('role=chef&disabled=false', 10)).toEqual(['Chef-Ann']);
      expect(await walk('disabled=true', 10)).toEqual(['Chef-Bob']);
      // Full-width and upper case compare as a login would: NFKC, then case-folded.
      expect(await walk(`q=${encodeURIComponent('ＣＨＥＦ-')}`, 10)).toEqual(['Chef-Ann', 'Chef-Bob']);
      expect(await walk('q=nobody-has-this-name', 10)).toEqual([]);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['disabled=maybe', 'disabled'],
      ['role=king', 'role'],
      ['cursor=not-a-cursor-of-ours', 'cursor'],
      ['limit=1&limit=2', 'limit'],
    ])('answers ?%s with a 400 naming %s', async (query, field) => {
      const reply = await get(`/users?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.body.errors).toEqual([expect.objectContaining({ path: field })]);
    });
  });

  describe('PATCH /users/{id}', () => {
    it('changes role, name and email and answers the updated user resource', async () => {
      const id = await signUp(server.url, 'patched');
      const reply = await patch(id, { role: 'manager', name: '  Pat Ched ', email: 'pat@example.com' });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toMatchObject({ id, user_name: 'patched', role: 'manager', name: 'Pat Ched', email: 'pat@example.com', disabled: false });
      expect(Date.parse(reply.body.updated_at)).toBeGreaterThan(Date.parse(reply.body.created_at));
      expect((await get(`/users/${id}`)).body).toEqual(reply.body);
      // Cleared with null; an empty body changes nothing.
      expect((await patch(id, { name: null })).body).toMatchObject({ name: null, email: 'pat@example.com' });
      expect((await patch(id, { email: null })).body).toMatchObject({ name: null, email: null });
      expect((await patch(id, {})).body).toMatchObject({ role: 'manager', email: null });
    });

    it('refuses a taken email (409), a bad field (400) and an unknown user (404)', async () => {
      const id = await signUp(server.url, 'emailer');
      await patch(id, { email: 'taken@example.com' });
      const other = await signUp(server.url, 'other-emailer');
      expect(await patch(other, { email: 'TAKEN@example.com' })).toMatchObject({ status: 409, body: { code: 'EMAIL_TAKEN' } });
      const invalid = await patch(other, { role: 'king', disabled: 'yes', email: 'not an email' });
      expect(invalid.status).toBe(400);
      expect(invalid.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(['disabled', 'role']);
      expect(await patch(other, { email: 'not an email' })).toMatchObject({ status: 400, body: { errors: [{ path: 'email' }] } });
      for (const unknown of ['5f0c2d3e-0000-4000-8000-00000000dead', 'not-a-uuid']) {
        expect(await patch(unknown, { role: 'chef' })).toMatchObject({ status: 404, body: { code: 'USER_NOT_FOUND' } });
      }
    });

    it('disabling ends every session at once: its access tokens 401 and refresh tokens 400 on the next request', async () => {
      const id = await signUp(server.url, 'disabled-soon');
      const [one, two] = [await login('disabled-soon'), await login('disabled-soon')];
      expect(await works(one)).toEqual(alive);
      const rotatedOne = { ...one, refresh_token: (await refresh(server.url, (await login('disabled-soon')).refresh_token)).body.refresh_token };

      expect((await patch(id, { disabled: true })).body).toMatchObject({ disabled: true });
      expect(await works(two)).toEqual(ended);
      expect(await works(rotatedOne)).toEqual(ended);
      expect((await get(`/users/${id}/sessions`)).body).toEqual([]);
      expect(await endReasons(id)).toEqual(['user_disabled', 'user_disabled', 'user_disabled']);
      // A disabled account's login answers exactly as a wrong password does.
      const refused = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'disabled-soon', password }, { authorization: basicAuth(server.client) }));
      const wrong = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'disabled-soon', password: 'not the password at all' }, { authorization: basicAuth(server.client) }));
      expect({ status: refused.status, body: refused.body }).toEqual({ status: wrong.status, body: wrong.body });

      // Enabled again: logins work; the sessions that were ended stay ended.
      expect((await patch(id, { disabled: false })).body).toMatchObject({ disabled: false });
      expect(await works(await login('disabled-soon'))).toEqual(alive);
      expect(await works(two)).toEqual(ended);
    });
  });

  describe('passwords', () => {
    it('POST /users/me/password: 204, the caller\'s session lives on, their other sessions end', async () => {
      const id = await signUp(server.url, 'changer');
      const [current, other] = [await login('changer'), await login('changer')];
      const newPassword = 'a fresh passphrase nobody guesses';

      const wrongCurrent = await post('/users/me/password', { current_password: 'not my password', new_password: newPassword }, current);
      expect(wrongCurrent).toMatchObject({ status: 400, body: { errors: [{ path: 'current_password', message: 'is incorrect' }] } });
      expect(await post('/users/me/password', { current_password: password, new_password: 'short' }, current)).toMatchObject({
        status: 400,
        body: { errors: [{ path: 'new_password' }] },
      });
      expect(await post('/users/me/password', { current_password: password }, current)).toMatchObject({ status: 400, body: { errors: [{ path: 'new_password' }] } });
      expect(await works(other)).toEqual(alive);

      const changed = await post('/users/me/password', { current_password: password, new_password: newPassword }, current);
      expect(changed.status).toBe(204);
      expect(await works(current)).toEqual(alive);
      expect((await get('/users/me/sessions', current)).body).toEqual([expect.objectContaining({ current: true })]);
      expect(await endReasons(id)).toEqual(['password_changed']);
      const otherLogin = await request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: 'changer', password }, { authorization: basicAuth(server.client) }));
      expect(otherLogin.status).toBe(400);
      expect((await login('changer', newPassword)).access_token).toEqual(expect.any(String));
    });

    it('POST /users/{id}/password (admin): 204, every session of that user ends', async () => {
      const id = await signUp(server.url, 'resettee');
      const [one, two] = [await login('resettee'), await login('resettee')];
      const reply = await post(`/users/${id}/password`, { new_password: 'reset by the admin today' });
      expect(reply.status).toBe(204);
      expect(await works(one)).toEqual(ended);
      expect(await works(two)).toEqual(ended);
      expect(await endReasons(id)).toEqual(['password_changed', 'password_changed']);
      expect(await works(await login('resettee', 'reset by the admin today'))).toEqual(alive);
      expect(await post(`/users/${id}/password`, { new_password: 'resettee' })).toMatchObject({ status: 400, body: { errors: [{ path: 'new_password' }] } });
      // The admin's own session is untouched.
      expect((await me(server.url, admin.access_token)).status).toBe(200);
    });
  });

  describe('sessions of another account (admin)', () => {
    it('lists them (none is the admin\'s current one) and ends one of them', async () => {
      const id = await signUp(server.url, 'watched');
      const [kept, doomed] = [await login('watched'), await login('watched')];
      const listed = await get(`/users/${id}/sessions`);
      expect(listed.status).toBe(200);
      expect(listed.body).toHaveLength(2);
      expect(listed.body.every((session: { current: boolean }) => !session.current)).toBe(true);
      const doomedId = ((await get('/users/me/sessions', doomed)).body as { id: string }[]).find((s) => listed.body.some((l: { id: string }) => l.id === s.id))!.id;
      const mine = ((await get('/users/me/sessions', doomed)).body as { id: string; current: boolean }[]).find((s) => s.current)!.id;
      expect(mine).toBe(doomedId);

      expect((await remove(`/users/${id}/sessions/${doomedId}`)).status).toBe(204);
      expect(await works(doomed)).toEqual(ended);
      expect(await works(kept)).toEqual(alive);
      expect(await endReasons(id)).toEqual(['revoked_by_admin']);
      expect(await remove(`/users/${id}/sessions/${doomedId}`)).toMatchObject({ status: 404, body: { code: 'SESSION_NOT_FOUND' } });
      expect(await get('/users/5f0c2d3e-0000-4000-8000-00000000dead/sessions')).toMatchObject({ status: 404, body: { code: 'USER_NOT_FOUND' } });
    });
  });

  describe('DELETE /users/{id}', () => {
    it('erases the person: 204, their sessions end, the account is gone and its user name free', async () => {
      const id = await signUp(server.url, 'erased-soon');
      const tokens = await login('erased-soon');
      expect((await remove(`/users/${id}`)).status).toBe(204);
      expect(await works(tokens)).toEqual(ended);
      expect(await endReasons(id)).toEqual(['user_erased']);
      // The log keeps the events, with the person's fields unreadable for good.
      const { events } = await server.deps.eventStore.readStream(`user-${id}`);
      expect(events.map((event) => event.type)).toEqual(['UserRegistered', 'UserErased']);
      expect(events[0]!.data).toMatchObject({ userName: '[erased]' });
      expect(await get(`/users/${id}`)).toMatchObject({ status: 404, body: { code: 'USER_NOT_FOUND' } });
      expect(await walk('q=erased-soon', 10)).toEqual([]);
      expect(await remove(`/users/${id}`)).toMatchObject({ status: 404, body: { code: 'USER_NOT_FOUND' } });
      await signUp(server.url, 'erased-soon');
    });
  });

  describe('who may', () => {
    let patron: Tokens;
    let victimId: string;
    let victim: Tokens;
    let victimSession: string;

    beforeAll(async () => {
      await signUp(server.url, 'mere-patron');
      patron = await login('mere-patron');
      victimId = await signUp(server.url, 'victim');
      victim = await login('victim');
      victimSession = ((await get('/users/me/sessions', victim)).body as { id: string }[])[0]!.id;
    });

    it.each<[string, () => Promise<Reply>]>([
      ['GET /users', () => get('/users', patron)],
      ['PATCH /users/{id}', () => patch(victimId, { role: 'admin' }, patron)],
      ['PATCH /users/{id} of themselves', async () => patch((await get('/users/me', patron)).body.id, { role: 'admin' }, patron)],
      ['POST /users/{id}/password', () => post(`/users/${victimId}/password`, { new_password: 'taken over by a patron' }, patron)],
      ['GET /users/{id}/sessions', () => get(`/users/${victimId}/sessions`, patron)],
      ['DELETE /users/{id}/sessions/{sid}', () => remove(`/users/${victimId}/sessions/${victimSession}`, patron)],
      ['DELETE /users/{id}', () => remove(`/users/${victimId}`, patron)],
      ['GET /users/{id} of another', () => get(`/users/${victimId}`, patron)],
    ])('a patron gets 403 on %s, and nothing changes', async (_, call) => {
      const reply = await call();
      expect(reply.status).toBe(403);
      expect(reply.body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(await works(victim)).toEqual(alive);
      victim = { ...victim, refresh_token: (await refresh(server.url, victim.refresh_token)).body?.refresh_token ?? victim.refresh_token };
      expect((await get(`/users/${victimId}`)).body).toMatchObject({ role: 'patron', disabled: false });
      expect((await get('/users/me', patron)).body).toMatchObject({ role: 'patron' });
    });

    it('answers 401 with a Bearer challenge to every admin endpoint without a token', async () => {
      for (const [method, path] of [
        ['GET', '/users'],
        ['PATCH', `/users/${victimId}`],
        ['POST', `/users/${victimId}/password`],
        ['GET', `/users/${victimId}/sessions`],
        ['DELETE', `/users/${victimId}/sessions/${victimSession}`],
        ['DELETE', `/users/${victimId}`],
        ['POST', '/users/me/password'],
        ['GET', '/users/me/sessions'],
      ] as const) {
        const reply = await request(`${server.url}${path}`, method === 'GET' || method === 'DELETE' ? { method } : { method, headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(reply.status, `${method} ${path}`).toBe(401);
        expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="pos-auth"');
      }
    });
  });
});

describe('the last active admin', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { poolMax: 20 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const patch = (id: string, body: unknown, tokens: Tokens) => request(`${server.url}/users/${id}`, { ...json(body, bearer(tokens.access_token)), method: 'PATCH' });

  it('can be neither demoted, disabled nor erased (409); with two admins racing to demote each other, exactly one wins', async () => {
    const firstId = await signUp(server.url, 'only-admin');
    const first = await logIn(server.url, server.client, 'only-admin');
    for (const change of [{ role: 'manager' }, { disabled: true }]) {
      expect(await patch(firstId, change, first)).toMatchObject({ status: 409, body: { code: 'LAST_ADMIN' } });
    }
    expect(await request(`${server.url}/users/${firstId}`, { method: 'DELETE', headers: bearer(first.access_token) })).toMatchObject({
      status: 409,
      body: { code: 'LAST_ADMIN' },
    });

    const secondId = await signUp(server.url, 'other-admin', { role: 'admin', adminToken: first.access_token });
    const admins: Record<string, { id: string; tokens: Tokens }> = {
      first: { id: firstId, tokens: first },
      second: { id: secondId, tokens: await logIn(server.url, server.client, 'other-admin') },
    };
    for (let round = 0; round < 5; round += 1) {
      const [a, b] = [admins['first']!, admins['second']!];
      const replies = await Promise.all([patch(b.id, { role: 'patron' }, a.tokens), patch(a.id, { role: 'patron' }, b.tokens)]);
      const winners = replies.filter((reply) => reply.status === 200);
      expect(winners, JSON.stringify(replies.map((reply) => reply.body))).toHaveLength(1);
      // The loser either found the roster down to one admin (409) or was no admin any more (403).
      const loser = replies.find((reply) => reply.status !== 200)!;
      expect([409, 403]).toContain(loser.status);
      const remaining = await request(`${server.url}/users?role=admin&disabled=false`, { headers: bearer((replies[0]!.status === 200 ? a : b).tokens.access_token) });
      expect(remaining.body.items).toHaveLength(1);
      // The remaining admin makes the other an admin again, for the next round.
      const [winner, demoted] = replies[0]!.status === 200 ? [a, b] : [b, a];
      expect((await patch(demoted.id, { role: 'admin' }, winner.tokens)).status).toBe(200);
    }
  });
});
