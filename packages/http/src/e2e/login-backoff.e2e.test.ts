import { loginAttemptsStreamId, userNameKeyOf, type LoginAttemptsEvent, type PasswordHasher } from '@pos-auth/domain';
import { createArgon2PasswordHasher } from '@pos-auth/infrastructure';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { json, request, type Reply } from './http.js';

/**
 * The per-user-name back-off (API.md "Abuse limits") over real HTTP, real argon2id and a real
 * database, with the default limit of 5: attempts 1-5 are answered as usual, an attempt inside
 * the window is 429 without a password check, and a known name and an unknown one cannot be told
 * apart by status, body or the work done. The server's clock stands still unless a test moves it,
 * so a window ends when the test says, not when a slow machine lets it.
 */
describe('login back-off per user name', () => {
  let server: TestServer;
  let verifies = 0;
  const password = 'correct horse battery staple';
  let now = Date.parse('2030-01-01T00:00:00.000Z');
  const clock = { now: () => new Date(now) };
  /** Moves the server's clock on by a reply's Retry-After: the window it announced has ended. */
  const waitOut = (reply: Reply) => {
    now += Number(reply.headers.get('retry-after')) * 1000;
  };

  beforeAll(async () => {
    const argon2 = await createArgon2PasswordHasher();
    // The real hasher, counted: a password check that ran shows up here.
    const counting: PasswordHasher = {
      hash: (plain) => argon2.hash(plain),
      verify: (hash, plain) => {
        verifies += 1;
        return argon2.verify(hash, plain);
      },
      dummyHash: argon2.dummyHash,
    };
    server = await startTestServer(inject('testDatabase'), { passwordHasher: counting, poolMax: 20, clock });
    for (const userName of ['known-seven', 'known-racer']) {
      expect((await request(`${server.url}/users`, json({ user_name: userName, password }))).status).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  const login = (userName: string, attempt: string) =>
    request(`${server.url}/auth/token`, json({ grant_type: 'password', user_name: userName, password: attempt }, { authorization: basicAuth(server.client) }));

  /** What a client can see of an answer, but the token values. */
  const visible = (reply: Reply) => ({ status: reply.status, retryAfter: reply.headers.get('retry-after') !== null, body: reply.body });

  /** The user name's back-off stream. */
  const eventsOf = async (userName: string) => {
    const streamId = loginAttemptsStreamId(server.deps.pseudonymizer.userName(userNameKeyOf(userName)));
    const { events } = await server.deps.eventStore.readStream<LoginAttemptsEvent>(streamId);
    return events.map(({ type, data }) => ({ type, data }) as LoginAttemptsEvent);
  };
  /** Its events as `LoginFailed 3` (the consecutive failures they state). */
  const attemptsOf = async (userName: string) =>
    (await eventsOf(userName)).map((event) => (event.type === 'FailedLoginsCleared' ? event.type : `${event.type} ${event.data.consecutiveFailures}`));

  /** Seven wrong passwords in a row, then the right one at once: each answer, and the checks they cost. */
  const sevenWrongThenRight = async (userName: string) => {
    const before = verifies;
    const replies: Reply[] = [];
    for (let i = 1; i <= 7; i += 1) replies.push(await login(userName, `wrong guess number ${i}`));
    replies.push(await login(userName, password));
    return { replies, checks: verifies - before };
  };

  const wrongGrant = { error: 'invalid_grant', error_description: 'The user name or password is incorrect.' };
  const slowDown = { error: 'slow_down', error_description: 'Too many failed logins for this user name. Try again later.' };

  let known: Awaited<ReturnType<typeof sevenWrongThenRight>>;

  it('7 wrong passwords: 1-5 are 400, 6 and 7 are 429 with Retry-After, and so is the right password then', async () => {
    known = await sevenWrongThenRight('known-seven');
    expect(known.replies.map(visible)).toEqual([
      ...Array(5).fill({ status: 400, retryAfter: false, body: wrongGrant }),
      ...Array(3).fill({ status: 429, retryAfter: true, body: slowDown }),
    ]);
    for (const reply of known.replies.slice(5)) expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    // Refused attempts were not checked, and neither counted nor reset anything.
    expect(known.checks).toBe(5);
    expect(await attemptsOf('known-seven')).toEqual([...[1, 2, 3, 4, 5].map((n) => `LoginFailed ${n}`), 'LoginThrottled 5']);
  });

  it('after the window the right password works and clears the count', async () => {
    waitOut(known.replies.at(-1)!);
    const reply = await login('known-seven', password);
    expect(reply.status).toBe(201);
    expect(await attemptsOf('known-seven')).toEqual([...[1, 2, 3, 4, 5].map((n) => `LoginFailed ${n}`), 'LoginThrottled 5', 'FailedLoginsCleared']);
    expect((await login('known-seven', 'a wrong guess once more')).status).toBe(400);
    expect((await attemptsOf('known-seven')).at(-1)).toBe('LoginFailed 1');
  });

  it('an unknown user name gets the same answers, bodies and password checks as a known one', async () => {
    const unknown = await sevenWrongThenRight('nobody-has-this-name');
    expect(unknown.replies.map(visible)).toEqual(known.replies.map(visible));
    expect(unknown.checks).toBe(known.checks);
    expect(await attemptsOf('nobody-has-this-name')).toEqual([...[1, 2, 3, 4, 5].map((n) => `LoginFailed ${n}`), 'LoginThrottled 5']);
    // tRPC answers the same refusal as TOO_MANY_REQUESTS, with the same wait.
    const trpc = await request(
      `${server.url}/trpc/auth.token`,
      json({ grantType: 'password', userName: 'nobody-has-this-name', password }, { authorization: basicAuth(server.client) }),
    );
    expect(trpc.status).toBe(429);
    expect(trpc.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(trpc.body.error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', domainCode: 'TOO_MANY_ATTEMPTS' });
  });

  it('a failure checked after a window counts on from where the refused attempts left it, and doubles the window', async () => {
    const userName = 'counts-on';
    for (let i = 1; i <= 5; i += 1) expect((await login(userName, `wrong ${i}`)).status).toBe(400);
    const refused = await login(userName, 'wrong while refused');
    expect(refused.status).toBe(429);
    waitOut(refused);
    expect((await login(userName, 'wrong after the window')).status).toBe(400);
    expect((await attemptsOf(userName)).slice(-2)).toEqual(['LoginFailed 6', 'LoginThrottled 6']);
    const windowsMs = (await eventsOf(userName)).flatMap((event) =>
      event.type === 'LoginThrottled' ? [Date.parse(event.data.until) - Date.parse(event.data.throttledAt)] : [],
    );
    expect(windowsMs).toEqual([1000, 2000]);
  });

  it.each([
    ['a known user name', 'known-racer'],
    ['an unknown user name', 'unknown-racer'],
  ])('20 concurrent wrong passwords for %s: exactly 5 checked, answered 400 and counted, 15 refused 429 unchecked', async (_, userName) => {
    const before = verifies;
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => login(userName, `concurrent wrong guess ${i}`)));
    expect(verifies - before).toBe(5);
    const statuses = replies.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
    expect(statuses).toEqual({ 400: 5, 429: 15 });
    for (const reply of replies) expect(reply.body).toEqual(reply.status === 400 ? wrongGrant : slowDown);
    expect(await attemptsOf(userName)).toEqual([...[1, 2, 3, 4, 5].map((n) => `LoginFailed ${n}`), 'LoginThrottled 5']);
  });
});
