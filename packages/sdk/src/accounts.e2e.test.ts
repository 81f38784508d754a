import { startTestServer, type TestServer } from '@pos-auth/http/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PosAuthError, createPosAuthClient, type PosAuthClient, type PosAuthUser, type SessionEnded } from './index.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const password = 'correct horse battery staple';

/** What a caught rejection is, to assert on it whole. */
const rejectionOf = async (promise: Promise<unknown>): Promise<PosAuthError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(PosAuthError);
      return error as PosAuthError;
    },
  );

/** The HTTP requests a client sent, as `METHOD /path?query STATUS`. */
const recordingFetch = () => {
  const calls: string[] = [];
  const recorded: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const response = await fetch(input, init);
    calls.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search} ${response.status}`);
    return response;
  };
  return { fetch: recorded, calls };
};

describe('the REST client: logout, sessions, passwords and the admin calls, against the real server', () => {
  let server: TestServer;
  let ana: PosAuthUser;
  let admin: PosAuthClient;

  /** A client of the test server, with the session ends it was told. */
  const clientFor = (options: { fetch?: typeof fetch } = {}) => {
    const auth = createPosAuthClient({ baseUrl: server.url, clientId: server.client.clientId, clientSecret: server.client.clientSecret, ...options });
    const ended: SessionEnded[] = [];
    auth.onSessionEnded((event) => ended.push(event));
    return Object.assign(auth, { ended });
  };

  const loggedIn = async (userName: string, secret = password) => {
    const auth = clientFor();
    await auth.login({ userName, password: secret });
    return auth;
  };

  /** What the server answers an access token, asked directly rather than through a client. */
  const meStatus = async (accessToken: string) => (await fetch(`${server.url}/users/me`, { headers: { Authorization: `Bearer ${accessToken}` } })).status;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    ana = await clientFor().register({ userName: 'ana', password });
    admin = await loggedIn('ana');
    for (const userName of ['bob', 'cleo', 'dora', 'eli', 'fay']) await admin.register({ userName, password, role: userName === 'cleo' ? 'chef' : 'patron' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('logout() ends this session at the server and forgets it; other sessions go on', async () => {
    const recording = recordingFetch();
    const here = clientFor({ fetch: recording.fetch });
    await here.login({ userName: 'bob', password });
    const elsewhere = await loggedIn('bob');
    const tokens = here.tokens!;

    await here.logout();

    expect(recording.calls).toEqual(['POST /auth/token 201', 'POST /auth/logout?scope=current 204']);
    expect(here.tokens).toBeNull();
    expect(await meStatus(tokens.accessToken)).toBe(401);
    expect((await elsewhere.me()).userName).toBe('bob');
    // Logged out, there is nothing to end: no request, no error.
    await here.logout();
    expect(recording.calls).toHaveLength(2);
    expect(here.ended).toEqual([]);
  });

  it("logout({ scope: 'others' }) ends the user's other sessions and keeps this one; 'all' ends every one", async () => {
    const [first, second, third] = [await loggedIn('bob'), await loggedIn('bob'), await loggedIn('bob')];

    await first.logout({ scope: 'others' });
    expect((await first.me()).userName).toBe('bob');
    expect(first.tokens).not.toBeNull();
    const refusal = await rejectionOf(second.me());
    expect(refusal).toMatchObject({ status: 400, code: 'invalid_grant' });
    expect(second.tokens).toBeNull();
    expect(second.ended).toEqual([{ reason: 'refresh_refused', error: refusal }]);
    expect(await rejectionOf(third.me())).toMatchObject({ code: 'invalid_grant' });

    const fourth = await loggedIn('bob');
    await first.logout({ scope: 'all' });
    expect(first.tokens).toBeNull();
    expect(await rejectionOf(fourth.me())).toMatchObject({ code: 'invalid_grant' });
    expect(first.ended).toEqual([]);
  });

  it('logout() of a session the server ended already resolves, forgets it and tells it ended', async () => {
    const bob = await loggedIn('bob');
    const other = await loggedIn('bob');
    await other.logout({ scope: 'all' });

    await bob.logout();
    expect(bob.tokens).toBeNull();
    expect(bob.ended).toMatchObject([{ reason: 'refresh_refused', error: { code: 'invalid_grant' } }]);
  });

  it('sessions() lists the active sessions, this one marked current; endSession(id) ends another', async () => {
    const dora = await loggedIn('dora');
    const other = await loggedIn('dora');

    const sessions = await dora.sessions();
    expect(sessions).toHaveLength(2);
    for (const session of sessions) {
      expect(session).toEqual({
        id: expect.stringMatching(uuid),
        clientId: server.client.clientId,
        createdAt: expect.stringMatching(isoUtc),
        lastRefreshedAt: null,
        expiresAt: expect.stringMatching(isoUtc),
        ip: '127.0.0.1',
        userAgent: expect.any(String),
        current: expect.any(Boolean),
      });
    }
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    const otherId = sessions.find((session) => !session.current)!.id;

    await dora.endSession(otherId);
    expect((await dora.sessions()).map((session) => session.current)).toEqual([true]);
    expect(await rejectionOf(other.me())).toMatchObject({ code: 'invalid_grant' });
    expect(await rejectionOf(dora.endSession(otherId))).toMatchObject({ status: 404, code: 'SESSION_NOT_FOUND' });
  });

  it('changePassword() ends the other sessions and keeps this one; a wrong current password names its field', async () => {
    const eli = await loggedIn('eli');
    const other = await loggedIn('eli');

    const wrong = await rejectionOf(eli.changePassword({ currentPassword: 'not my password', newPassword: 'a fresh passphrase, changed' }));
    expect(wrong).toMatchObject({ status: 400, fieldErrors: [{ path: 'current_password', message: 'is incorrect' }] });

    await eli.changePassword({ currentPassword: password, newPassword: 'a fresh passphrase, changed' });
    expect((await eli.me()).userName).toBe('eli');
    expect(await rejectionOf(other.me())).toMatchObject({ code: 'invalid_grant' });
    expect(await rejectionOf(loggedIn('eli'))).toMatchObject({ code: 'invalid_grant' });
    expect((await (await loggedIn('eli', 'a fresh passphrase, changed')).me()).userName).toBe('eli');
  });

  it('users.list() pages with its filters, and users.all() walks every page without a gap or a repeat', async () => {
    const recording = recordingFetch();
    const auth = clientFor({ fetch: recording.fetch });
    await auth.login({ userName: 'ana', password });

    const first = await auth.users.list({ limit: 2 });
    expect(first.items.map((user) => user.userName)).toEqual(['ana', 'bob']);
    expect(first.items[0]).toEqual(ana);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await auth.users.list({ limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((user) => user.userName)).toEqual(['cleo', 'dora']);

    expect((await auth.users.list({ role: 'chef' })).items.map((user) => user.userName)).toEqual(['cleo']);
    expect(await auth.users.list({ q: 'D' })).toEqual({ items: [expect.objectContaining({ userName: 'dora' })], nextCursor: null });
    expect((await auth.users.list({ disabled: true })).items).toEqual([]);

    recording.calls.length = 0;
    const everyone: string[] = [];
    for await (const user of auth.users.all({ limit: 2 })) everyone.push(user.userName);
    expect(everyone).toEqual(['ana', 'bob', 'cleo', 'dora', 'eli', 'fay']);
    expect(recording.calls).toEqual([
      'GET /users?limit=2 200',
      expect.stringMatching(/^GET \/users\?limit=2&cursor=[^&]+ 200$/u),
      expect.stringMatching(/^GET \/users\?limit=2&cursor=[^&]+ 200$/u),
    ]);
    const patrons: string[] = [];
    for await (const user of auth.users.all({ role: 'patron', q: 'f' })) patrons.push(user.userName);
    expect(patrons).toEqual(['fay']);
  });

  it('users.get() and users.update(): role, name and email changed and cleared; disabling ends their sessions at once', async () => {
    const { items } = await admin.users.list({ q: 'fay' });
    const fay = items[0]!;
    expect(await admin.users.get(fay.id)).toEqual(fay);

    const updated = await admin.users.update(fay.id, { role: 'expeditor', name: 'Fay', email: 'fay@pos.example' });
    expect(updated).toEqual({ ...fay, role: 'expeditor', name: 'Fay', email: 'fay@pos.example', updatedAt: expect.stringMatching(isoUtc) });
    expect(await admin.users.update(fay.id, { name: null, email: null })).toMatchObject({ name: null, email: null, role: 'expeditor' });

    const session = await loggedIn('fay');
    expect(await admin.users.update(fay.id, { disabled: true })).toMatchObject({ disabled: true });
    const refusal = await rejectionOf(session.me());
    expect(refusal).toMatchObject({ code: 'invalid_grant' });
    expect(session.ended).toEqual([{ reason: 'refresh_refused', error: refusal }]);
    expect(await rejectionOf(loggedIn('fay'))).toMatchObject({ status: 400, code: 'invalid_grant' });
    expect((await admin.users.list({ disabled: true })).items.map((user) => user.userName)).toEqual(['fay']);

    await admin.users.update(fay.id, { disabled: false });
    expect((await (await loggedIn('fay')).me()).disabled).toBe(false);
  });

  it('users.sessions(id) and users.endSession(id, sid): an admin sees and ends another user’s session', async () => {
    const cleo = await loggedIn('cleo');
    const { id } = await cleo.me();
    const [session] = await admin.users.sessions(id);
    expect(session).toMatchObject({ id: expect.stringMatching(uuid), current: false, clientId: server.client.clientId });

    await admin.users.endSession(id, session!.id);
    expect(await admin.users.sessions(id)).toEqual([]);
    expect(await rejectionOf(cleo.me())).toMatchObject({ code: 'invalid_grant' });
  });

  it('users.resetPassword() sets a new password and ends every session of that user', async () => {
    const bob = await loggedIn('bob');
    const { id } = await bob.me();

    await admin.users.resetPassword(id, 'a passphrase the admin set');
    expect(await rejectionOf(bob.me())).toMatchObject({ code: 'invalid_grant' });
    expect(await rejectionOf(loggedIn('bob'))).toMatchObject({ code: 'invalid_grant' });
    expect((await (await loggedIn('bob', 'a passphrase the admin set')).me()).id).toBe(id);
  });

  it('users.erase() erases the person, ends their sessions and frees the user name', async () => {
    const dora = await loggedIn('dora');
    const { id } = await dora.me();

    await admin.users.erase(id);
    expect(await rejectionOf(dora.me())).toMatchObject({ code: 'invalid_grant' });
    expect(await rejectionOf(admin.users.get(id))).toMatchObject({ status: 404, code: 'USER_NOT_FOUND' });
    const again = await clientFor().register({ userName: 'dora', password });
    expect(again.id).not.toBe(id);
  });

  it('refuses the admin calls to any other role (403 FORBIDDEN), and protects the last admin (409 LAST_ADMIN)', async () => {
    const eli = await loggedIn('eli', 'a fresh passphrase, changed');
    const { id } = await eli.me();
    const refusals = await Promise.all([
      rejectionOf(eli.users.list()),
      rejectionOf(eli.users.get(ana.id)),
      rejectionOf(eli.users.update(id, { role: 'admin' })),
      rejectionOf(eli.users.resetPassword(ana.id, 'a passphrase eli chose')),
      rejectionOf(eli.users.erase(ana.id)),
      rejectionOf(eli.users.sessions(ana.id)),
    ]);
    expect(refusals.map(({ status, code }) => ({ status, code }))).toEqual(Array(6).fill({ status: 403, code: 'FORBIDDEN' }));
    expect(eli.tokens).not.toBeNull();
    expect(eli.ended).toEqual([]);

    expect(await rejectionOf(admin.users.update(ana.id, { role: 'manager' }))).toMatchObject({ status: 409, code: 'LAST_ADMIN' });
    expect(await rejectionOf(admin.users.update(ana.id, { disabled: true }))).toMatchObject({ status: 409, code: 'LAST_ADMIN' });
  });
});
