import { startTestServer, type TestServer } from '@pos-auth/http/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  PosAuthError,
  createMemoryTokenStorage,
  createPosAuthClient,
  createWebTokenStorage,
  type PosAuthClientOptions,
  type PosAuthUser,
  type TokenSet,
} from './index.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const password = 'correct horse battery staple';

/**
 * A `fetch` that passes every request on to the real one and remembers it as
 * `METHOD /path STATUS`, in the order the answers came.
 */
const recordingFetch = () => {
  const calls: string[] = [];
  let refreshesInFlight = 0;
  let maxRefreshesInFlight = 0;
  const recorded: typeof fetch = async (input, init) => {
    const call = `${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`;
    const isRefresh = call === 'POST /auth/refresh-token';
    if (isRefresh) maxRefreshesInFlight = Math.max(maxRefreshesInFlight, ++refreshesInFlight);
    try {
      const response = await fetch(input, init);
      calls.push(`${call} ${response.status}`);
      return response;
    } finally {
      if (isRefresh) refreshesInFlight--;
    }
  };
  return {
    fetch: recorded,
    calls,
    count: (call: string) => calls.filter((made) => made === call).length,
    get maxRefreshesInFlight() {
      return maxRefreshesInFlight;
    },
  };
};

/** What a caught rejection is, to assert on it whole. */
const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

const expectPosAuthError = (
  error: unknown,
  expected: { status: number; code: string; message: string; fieldErrors?: readonly { path: string; message: string }[] },
) => {
  expect(error).toBeInstanceOf(PosAuthError);
  const { status, code, message, fieldErrors, name } = error as PosAuthError;
  expect({ status, code, message, fieldErrors, name }).toEqual({ fieldErrors: [], ...expected, name: 'PosAuthError' });
};

const rawRefresh = (server: TestServer, refreshToken: string) =>
  fetch(`${server.url}/auth/refresh-token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  }).then(async (response) => ({ status: response.status, body: (await response.json()) as unknown }));

const rawMe = (server: TestServer, accessToken: string) =>
  fetch(`${server.url}/users/me`, { headers: { Authorization: `Bearer ${accessToken}` } }).then((response) => response.status);

const clientFor = (server: TestServer, options: Partial<PosAuthClientOptions> = {}) =>
  createPosAuthClient({ baseUrl: `${server.url}/`, clientId: server.client.clientId, clientSecret: server.client.clientSecret, ...options });

const expectFreshTokens = (tokens: TokenSet | null, ttlSeconds: number) => {
  expect(tokens).not.toBeNull();
  const { accessToken, refreshToken, tokenType, expiresIn, expiresAt } = tokens!;
  expect(accessToken).toMatch(uuid);
  expect(refreshToken.length).toBeGreaterThanOrEqual(22);
  expect(tokenType).toBe('Bearer');
  expect(expiresIn).toBe(ttlSeconds);
  expect(expiresAt).toMatch(isoUtc);
  const lifetime = (Date.parse(expiresAt) - Date.now()) / 1000;
  expect(lifetime).toBeGreaterThan(ttlSeconds - 10);
  expect(lifetime).toBeLessThanOrEqual(ttlSeconds);
};

describe('the REST client: the documented flow on a fresh server', () => {
  let server: TestServer;
  let ana: PosAuthUser;
  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('makes the first account of a fresh server an admin and later ones patrons, whatever they ask', async () => {
    const recording = recordingFetch();
    const auth = clientFor(server, { fetch: recording.fetch });

    ana = await auth.register({ userName: 'ana', password, email: 'ana@pos.example', name: 'Ana Admin', role: 'patron' });
    expect(ana).toEqual({
      id: expect.stringMatching(uuid),
      userName: 'ana',
      email: 'ana@pos.example',
      name: 'Ana Admin',
      role: 'admin',
      disabled: false,
      createdAt: expect.stringMatching(isoUtc),
      updatedAt: ana.createdAt,
    });
    const bob = await auth.register({ userName: 'bob', password });
    expect(bob).toEqual({ ...bob, userName: 'bob', email: null, name: null, role: 'patron' });
    expect(bob.id).not.toBe(ana.id);
    // No session kept: registration went as the client, and nothing logged in.
    expect(recording.calls).toEqual(['POST /users 201', 'POST /users 201']);
    expect(auth.tokens).toBeNull();
  });

  it('register → login → me → refresh → me, keeping and rotating the tokens', async () => {
    const recording = recordingFetch();
    const auth = clientFor(server, { fetch: recording.fetch });

    const issued = await auth.login({ userName: 'ANA', password });
    expectFreshTokens(issued, 1800);
    expect(auth.tokens).toEqual(issued);
    expect(await auth.getAccessToken()).toBe(issued.accessToken);

    expect(await auth.me()).toEqual(ana);

    const rotated = await auth.refresh();
    expectFreshTokens(rotated, 1800);
    expect(rotated.accessToken).not.toBe(issued.accessToken);
    expect(rotated.refreshToken).not.toBe(issued.refreshToken);
    expect(auth.tokens).toEqual(rotated);

    expect(await auth.me()).toEqual(ana);
    expect(recording.calls).toEqual([
      'POST /auth/token 201',
      'GET /users/me 200',
      'POST /auth/refresh-token 201',
      'GET /users/me 200',
    ]);

    // Rotation: the refresh token it replaced, replayed inside the grace window (a lost
    // response), answers the very same pair; the new one works.
    const replay = await rawRefresh(server, issued.refreshToken);
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({ access_token: rotated.accessToken, refresh_token: rotated.refreshToken, expires_at: rotated.expiresAt });
    expect(await rawMe(server, rotated.accessToken)).toBe(200);

    // Logout ends the session at the server, then forgets it.
    await auth.logout();
    expect(auth.tokens).toBeNull();
    expect(await rawMe(server, rotated.accessToken)).toBe(401);
    expect((await rawRefresh(server, rotated.refreshToken)).status).toBe(400);
    expectPosAuthError(await rejectionOf(auth.me()), {
      status: 401,
      code: 'NOT_AUTHENTICATED',
      message: 'No session is kept: log in first.',
    });
    expect(recording.calls.slice(4)).toEqual(['POST /auth/logout 204']);
  });

  it("registers as the kept session's user: an admin picks any role, a patron cannot", async () => {
    const admin = clientFor(server);
    await admin.login({ userName: 'ana', password });
    const chef = await admin.register({ userName: 'carla', password, role: 'chef' });
    expect(chef).toMatchObject({ userName: 'carla', role: 'chef' });

    const patron = clientFor(server);
    await patron.login({ userName: 'bob', password });
    expectPosAuthError(await rejectionOf(patron.register({ userName: 'dan', password, role: 'manager' })), {
      status: 403,
      code: 'ROLE_ELEVATION_FORBIDDEN',
      message: 'Only an admin may create an account with a role other than patron.',
    });
    expectPosAuthError(await rejectionOf(clientFor(server).register({ userName: 'dan', password, role: 'expeditor' })), {
      status: 403,
      code: 'ROLE_ELEVATION_FORBIDDEN',
      message: 'Only an admin may create an account with a role other than patron.',
    });
  });

  it('surfaces refusals as PosAuthError with the status, code, message and field errors', async () => {
    const auth = clientFor(server);

    const taken = await rejectionOf(auth.register({ userName: 'Ana', password }));
    expectPosAuthError(taken, { status: 409, code: 'USER_NAME_TAKEN', message: 'This user name is already taken.' });
    expect((taken as PosAuthError).requestId).toMatch(uuid);

    expectPosAuthError(await rejectionOf(auth.register({ userName: 'ab', password: 'short' })), {
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'The request is invalid.',
      fieldErrors: [
        { path: 'user_name', message: 'must be 3 to 64 characters long' },
        { path: 'password', message: 'must be at least 8 characters long' },
      ],
    });

    const wrongPassword = await rejectionOf(auth.login({ userName: 'ana', password: `${password}!` }));
    expect(wrongPassword).toMatchObject({ status: 400, code: 'invalid_grant', fieldErrors: [] });
    const unknownUser = await rejectionOf(auth.login({ userName: 'nobody', password }));
    // The same answer whether the user exists or not.
    expect(unknownUser).toMatchObject({ status: 400, code: 'invalid_grant', message: (wrongPassword as PosAuthError).message });
    expect(auth.tokens).toBeNull();

    const wrongSecret = clientFor(server, { clientSecret: `${server.client.clientSecret}x` });
    expectPosAuthError(await rejectionOf(wrongSecret.login({ userName: 'ana', password })), {
      status: 401,
      code: 'invalid_client',
      message: 'Client authentication failed.',
    });
    const unknownClient = clientFor(server, { clientId: 'no-such-client' });
    expectPosAuthError(await rejectionOf(unknownClient.login({ userName: 'ana', password })), {
      status: 401,
      code: 'invalid_client',
      message: 'Client authentication failed.',
    });
    // POST /users checks client credentials that are sent, too.
    expectPosAuthError(await rejectionOf(wrongSecret.register({ userName: 'erin', password })), {
      status: 401,
      code: 'INVALID_CLIENT',
      message: 'Client authentication failed.',
    });
  });

  it('lets network failures propagate as they are', async () => {
    const auth = createPosAuthClient({ baseUrl: 'http://127.0.0.1:1', clientId: 'a', clientSecret: 'b' });
    const error = await rejectionOf(auth.login({ userName: 'ana', password }));
    expect(error).not.toBeInstanceOf(PosAuthError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
  });

  it('keeps the session in a Web Storage, where a second client (a reloaded tab) finds it', async () => {
    const entries = new Map<string, string>();
    const webStorage = {
      getItem: (key: string) => entries.get(key) ?? null,
      setItem: (key: string, value: string) => void entries.set(key, value),
      removeItem: (key: string) => void entries.delete(key),
    };
    const first = clientFor(server, { storage: createWebTokenStorage(webStorage) });
    const tokens = await first.login({ userName: 'ana', password });
    expect(JSON.parse(entries.get('pos-auth.tokens')!)).toEqual(tokens);

    const reloaded = clientFor(server, { storage: createWebTokenStorage(webStorage) });
    expect(reloaded.tokens).toEqual(tokens);
    expect(await reloaded.me()).toEqual(ana);

    await reloaded.logout();
    expect(entries.size).toBe(0);
    expect(first.tokens).toBeNull();

    entries.set('pos-auth.tokens', '{"accessToken":');
    expect(first.tokens).toBeNull();
  });
});

describe('the REST client: refreshing', () => {
  let server: TestServer;
  beforeAll(async () => {
    // No grace window: a rotated-away refresh token is refused at once, which is what these
    // tests drive the client into (the grace window itself is the server's tests' subject).
    server = await startTestServer(inject('testDatabase'), { settings: { refreshReuseGraceSeconds: 0 } });
    await clientFor(server).register({ userName: 'root', password });
    await clientFor(server).register({ userName: 'rita', password });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A client whose clock can be moved: `clock.offsetSeconds` ahead of the real one. */
  const clockedClient = () => {
    const clock = { offsetSeconds: 0 };
    const recording = recordingFetch();
    const auth = clientFor(server, { fetch: recording.fetch, now: () => Date.now() + clock.offsetSeconds * 1000 });
    return { auth, clock, recording };
  };

  it('refreshes before a request when the access token expires within refreshSkewSeconds, not before', async () => {
    const { auth, clock, recording } = clockedClient();
    await auth.login({ userName: 'rita', password });

    clock.offsetSeconds = 1800 - 31; // 31 s left: outside the default 30 s skew
    expect((await auth.me()).userName).toBe('rita');
    expect(recording.count('POST /auth/refresh-token 201')).toBe(0);

    clock.offsetSeconds = 1800 - 29; // 29 s left
    expect((await auth.me()).userName).toBe('rita');
    expect(recording.calls).toEqual([
      'POST /auth/token 201',
      'GET /users/me 200',
      'POST /auth/refresh-token 201',
      'GET /users/me 200',
    ]);
  });

  it('shares ONE refresh among 20 concurrent calls that all need one, and all 20 succeed', async () => {
    const { auth, clock, recording } = clockedClient();
    const issued = await auth.login({ userName: 'rita', password });
    clock.offsetSeconds = 1800; // every token looks expired now

    const users = await Promise.all(Array.from({ length: 20 }, () => auth.me()));

    expect(users.map((user) => user.userName)).toEqual(Array(20).fill('rita'));
    expect(recording.count('POST /auth/refresh-token 201')).toBe(1);
    expect(recording.maxRefreshesInFlight).toBe(1);
    expect(recording.count('GET /users/me 200')).toBe(20);
    expect(recording.calls).toHaveLength(1 + 1 + 20);
    const rotated = auth.tokens!;
    expect(rotated.refreshToken).not.toBe(issued.refreshToken);

    // The kept token is the live one: five concurrent refreshes share one, again.
    clock.offsetSeconds = 0;
    const tokens = await Promise.all(Array.from({ length: 5 }, () => auth.refresh()));
    expect(new Set(tokens.map((set) => set.refreshToken)).size).toBe(1);
    expect(recording.count('POST /auth/refresh-token 201')).toBe(2);
    expect(recording.maxRefreshesInFlight).toBe(1);
    expect(auth.tokens).toEqual(tokens[0]);
    // Had the client sent the rotated-away token, the server would have seen reuse.
    expect(await rawRefresh(server, issued.refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('on 401s from 20 concurrent calls, refreshes once and retries each once', async () => {
    const real = await clientFor(server).login({ userName: 'rita', password });
    const storage = createMemoryTokenStorage();
    // An access token the server does not know, that the client believes valid for an hour.
    storage.set({ ...real, accessToken: crypto.randomUUID(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const recording = recordingFetch();
    const auth = clientFor(server, { storage, fetch: recording.fetch });

    const users = await Promise.all(Array.from({ length: 20 }, () => auth.me()));

    expect(users.map((user) => user.userName)).toEqual(Array(20).fill('rita'));
    expect(recording.count('POST /auth/refresh-token 201')).toBe(1);
    expect(recording.count('GET /users/me 401')).toBe(20);
    expect(recording.count('GET /users/me 200')).toBe(20);
    expect(recording.calls).toHaveLength(41);
  });

  it('retries a refused request only once, then takes the session for ended', async () => {
    const recording = recordingFetch();
    // A fetch that spoils the access token of every GET, so the retry is refused as well.
    const spoiling: typeof fetch = (input, init) =>
      recording.fetch(input, init?.method === 'GET' ? { ...init, headers: { Authorization: 'Bearer spoiled' } } : init);
    const auth = clientFor(server, { fetch: spoiling });
    await auth.login({ userName: 'rita', password });
    const ended: unknown[] = [];
    auth.onSessionEnded((event) => ended.push(event));

    const refusal = await rejectionOf(auth.me());
    expectPosAuthError(refusal, {
      status: 401,
      code: 'INVALID_TOKEN',
      message: 'The access token is missing, invalid or expired.',
    });
    expect(recording.calls).toEqual([
      'POST /auth/token 201',
      'GET /users/me 401',
      'POST /auth/refresh-token 201',
      'GET /users/me 401',
    ]);
    // A token refused right after a refresh: the session is forgotten, and that is told once.
    expect(auth.tokens).toBeNull();
    await Promise.resolve();
    expect(ended).toEqual([{ reason: 'access_refused', error: refusal }]);
  });

  it('forgets the session when a refresh is refused with invalid_grant (here: reuse, which ends it everywhere), and throws', async () => {
    const first = clientFor(server);
    const issued = await first.login({ userName: 'rita', password });
    const copy = createMemoryTokenStorage();
    copy.set(issued);
    const stale = clientFor(server, { storage: copy, now: () => Date.now() + 1800 * 1000 });
    const ended: { client: string; reason: string; code: string | undefined }[] = [];
    stale.onSessionEnded(({ reason, error }) => ended.push({ client: 'stale', reason, code: error?.code }));
    first.onSessionEnded(({ reason, error }) => ended.push({ client: 'first', reason, code: error?.code }));
    await first.refresh(); // rotates the token the copy holds away

    // Twice at once: one refresh, one end told.
    const [refusal, again] = await Promise.all([rejectionOf(stale.me()), rejectionOf(stale.me())]);
    expectPosAuthError(refusal, {
      status: 400,
      code: 'invalid_grant',
      message: 'The refresh token is invalid, expired or revoked.',
    });
    expect(again).toBe(refusal);
    expect(stale.tokens).toBeNull();
    expect(copy.get()).toBeNull();
    expect((await rejectionOf(stale.getAccessToken())) as PosAuthError).toMatchObject({ code: 'NOT_AUTHENTICATED' });
    // Reuse ends the whole session (RFC 9700 §4.14.2): the client holding the live token is out too.
    expectPosAuthError(await rejectionOf(first.me()), { status: 400, code: 'invalid_grant', message: 'The refresh token is invalid, expired or revoked.' });
    expect(first.tokens).toBeNull();
    await Promise.resolve();
    expect(ended).toEqual([
      { client: 'stale', reason: 'refresh_refused', code: 'invalid_grant' },
      { client: 'first', reason: 'refresh_refused', code: 'invalid_grant' },
    ]);
  });

  it('keeps a session logged in while a refresh of the previous one was in flight, and uses it at once', async () => {
    let releaseRefresh = () => {};
    const refreshHeld = new Promise<void>((resolve) => (releaseRefresh = resolve));
    // Holds the refresh's answer back until the login has completed.
    const holding: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith('/auth/refresh-token')) await refreshHeld;
      return response;
    };
    const auth = clientFor(server, { fetch: holding });
    const rita = await auth.login({ userName: 'rita', password });
    const refreshing = auth.refresh();
    const root = await auth.login({ userName: 'root', password });
    // The new session does not wait for, nor take its token from, the old session's refresh.
    expect((await auth.me()).userName).toBe('root');
    expect(await auth.getAccessToken()).toBe(root.accessToken);
    releaseRefresh();
    const refreshed = await refreshing;

    expect(refreshed.refreshToken).not.toBe(rita.refreshToken);
    expect(auth.tokens).toEqual(root);
    expect((await auth.me()).userName).toBe('root');
  });
});

describe('the REST client: real expiry with a 2-second access-token TTL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { settings: { accessTokenTtlSeconds: 2 } });
    await clientFor(server).register({ userName: 'root', password });
  });
  afterAll(async () => {
    await server?.close();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('refreshes an expired access token before calling, with no skew', async () => {
    const recording = recordingFetch();
    const auth = clientFor(server, { fetch: recording.fetch, refreshSkewSeconds: 0 });
    const issued = await auth.login({ userName: 'root', password });
    expectFreshTokens(issued, 2);
    expect((await auth.me()).userName).toBe('root');

    await sleep(2100);
    expect(await rawMe(server, issued.accessToken)).toBe(401);
    expect((await auth.me()).userName).toBe('root');
    expect(recording.calls).toEqual([
      'POST /auth/token 201',
      'GET /users/me 200',
      'POST /auth/refresh-token 201',
      'GET /users/me 200',
    ]);
  });

  it('with a client clock that lags, recovers from the 401 of an expired token by one refresh', async () => {
    const recording = recordingFetch();
    const auth = clientFor(server, { fetch: recording.fetch, refreshSkewSeconds: 0, now: () => Date.now() - 60_000 });
    await auth.login({ userName: 'root', password });
    await sleep(2100);
    expect((await auth.me()).userName).toBe('root');
    expect(recording.calls).toEqual([
      'POST /auth/token 201',
      'GET /users/me 401',
      'POST /auth/refresh-token 201',
      'GET /users/me 200',
    ]);
  });
});
