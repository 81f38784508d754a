import { startTestServer, type TestServer } from '@pos-auth/http/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TRPCClientError, createPosAuthClient, createPosAuthTrpcClient, type AppRouter, type PosAuthTrpcClientOptions } from './index.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const password = 'correct horse battery staple';

/** A `fetch` that remembers each HTTP request as `METHOD /path?batch AUTH-SCHEME STATUS`. */
const recordingFetch = () => {
  const calls: string[] = [];
  const recorded: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const scheme = headers.get('authorization')?.split(' ')[0] ?? 'none';
    const response = await fetch(input, init);
    calls.push(`${init?.method ?? 'GET'} ${url.pathname} ${scheme} ${response.status}`);
    return response;
  };
  return { fetch: recorded, calls };
};

const rejectionOf = async (promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(TRPCClientError);
      return error as TRPCClientError<AppRouter>;
    },
  );

describe('the tRPC client against a fresh server', () => {
  let server: TestServer;
  let accessToken: string | null = null;
  const recording = recordingFetch();
  const trpcFor = (options: Partial<PosAuthTrpcClientOptions> = {}) =>
    createPosAuthTrpcClient({
      url: `${server.url}/trpc`,
      client: server.client,
      getAccessToken: () => accessToken,
      fetch: recording.fetch,
      ...options,
    });

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('users.register → auth.token → users.me → auth.refresh → users.me', async () => {
    const trpc = trpcFor();

    const tia = await trpc.users.register.mutate({ userName: 'tia', password, email: 'tia@pos.example' });
    expect(tia).toEqual({
      id: expect.stringMatching(uuid),
      userName: 'tia',
      email: 'tia@pos.example',
      name: null,
      role: 'admin', // the first account of a fresh server
      disabled: false,
      createdAt: expect.stringMatching(isoUtc),
      updatedAt: tia.createdAt,
    });

    const issued = await trpc.auth.token.mutate({ grantType: 'password', userName: 'tia', password });
    expect(issued).toEqual({
      accessToken: expect.stringMatching(uuid),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 1800,
      expiresAt: expect.stringMatching(isoUtc),
    });
    accessToken = issued.accessToken;

    expect(await trpc.users.me.query()).toEqual(tia);
    // auth.token authenticates the client, even while a user's token is at hand.
    const second = await trpc.auth.token.mutate({ grantType: 'password', userName: 'tia', password });
    expect(second.accessToken).not.toBe(issued.accessToken);

    const rotated = await trpc.auth.refresh.mutate({ refreshToken: issued.refreshToken });
    expect(rotated.accessToken).not.toBe(issued.accessToken);
    expect(rotated.refreshToken).not.toBe(issued.refreshToken);
    accessToken = rotated.accessToken;
    expect(await trpc.users.me.query()).toEqual(tia);

    // Once its child has rotated too, the rotated-away refresh token is reuse: refused.
    const next = await trpc.auth.refresh.mutate({ refreshToken: rotated.refreshToken });
    accessToken = next.accessToken;
    const reused = await rejectionOf(trpc.auth.refresh.mutate({ refreshToken: issued.refreshToken }));
    expect(reused.message).toBe('The refresh token is invalid, expired or revoked.');
    expect(reused.data).toEqual({
      code: 'BAD_REQUEST',
      httpStatus: 400,
      path: 'auth.refresh',
      domainCode: 'INVALID_GRANT',
      fieldErrors: null,
    });

    expect(recording.calls).toEqual([
      'POST /trpc/users.register Basic 200',
      'POST /trpc/auth.token Basic 200',
      'GET /trpc/users.me Bearer 200',
      'POST /trpc/auth.token Basic 200',
      'POST /trpc/auth.refresh Bearer 200',
      'GET /trpc/users.me Bearer 200',
      'POST /trpc/auth.refresh Bearer 200',
      'POST /trpc/auth.refresh Bearer 400',
    ]);
  });

  it('answers typed errors: TRPCClientError with the httpStatus and the domainCode', async () => {
    accessToken = null;
    const trpc = trpcFor();

    const taken = await rejectionOf(trpc.users.register.mutate({ userName: 'TIA', password }));
    expect(taken.message).toBe('This user name is already taken.');
    expect(taken.data).toEqual({
      code: 'CONFLICT',
      httpStatus: 409,
      path: 'users.register',
      domainCode: 'USER_NAME_TAKEN',
      fieldErrors: null,
    });

    const invalid = await rejectionOf(trpc.users.register.mutate({ userName: 'ab', password: 'short' }));
    expect(invalid.data).toMatchObject({
      httpStatus: 400,
      domainCode: 'VALIDATION_FAILED',
      fieldErrors: [
        { path: 'user_name', message: 'must be 3 to 64 characters long' },
        { path: 'password', message: 'must be at least 8 characters long' },
      ],
    });

    const wrongPassword = await rejectionOf(trpc.auth.token.mutate({ grantType: 'password', userName: 'tia', password: 'wrong password' }));
    expect(wrongPassword.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, domainCode: 'INVALID_GRANT' });

    const wrongSecret = trpcFor({ client: { clientId: server.client.clientId, clientSecret: 'not-the-secret' } });
    const badClient = await rejectionOf(wrongSecret.auth.token.mutate({ grantType: 'password', userName: 'tia', password }));
    expect(badClient.message).toBe('Client authentication failed.');
    expect(badClient.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, domainCode: 'INVALID_CLIENT' });

    const anonymous = await rejectionOf(trpcFor().users.me.query());
    expect(anonymous.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, path: 'users.me' });

    accessToken = crypto.randomUUID();
    const unknownToken = await rejectionOf(trpcFor().users.me.query());
    expect(unknownToken.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, domainCode: 'INVALID_TOKEN' });
  });

  it('batches the calls of one tick into one HTTP request', async () => {
    const batched = recordingFetch();
    const tokens = await trpcFor().auth.token.mutate({ grantType: 'password', userName: 'tia', password });
    accessToken = tokens.accessToken;
    const trpc = trpcFor({ fetch: batched.fetch });
    const [me, again] = await Promise.all([trpc.users.me.query(), trpc.users.me.query()]);
    expect(me.userName).toBe('tia');
    expect(again).toEqual(me);
    expect(batched.calls).toEqual(['GET /trpc/users.me,users.me Bearer 200']);
  });

  it('splits the calls of one tick into batches of at most 10, as the server requires', async () => {
    const batched = recordingFetch();
    const trpc = trpcFor({ fetch: batched.fetch });
    const users = await Promise.all(Array.from({ length: 23 }, () => trpc.users.me.query()));
    expect(users.map((user) => user.userName)).toEqual(users.map(() => 'tia'));
    expect(batched.calls.map((call) => call.split(' ')[1]?.split(',').length).sort()).toEqual([10, 10, 3]);
    expect(batched.calls.every((call) => call.endsWith(' 200'))).toBe(true);
  });

  it('takes its access token from the REST client, refreshing through it', async () => {
    const rest = createPosAuthClient({ baseUrl: server.url, ...server.client, now: () => Date.now() + 1800 * 1000 });
    const trpc = trpcFor({ getAccessToken: () => (rest.tokens === null ? null : rest.getAccessToken()) });
    await rest.login({ userName: 'tia', password });
    const before = rest.tokens!;

    expect((await trpc.users.me.query()).userName).toBe('tia');
    expect(rest.tokens!.refreshToken).not.toBe(before.refreshToken);

    await rest.logout();
    const loggedOut = await rejectionOf(trpc.users.me.query());
    expect(loggedOut.data).toMatchObject({ httpStatus: 401 });
  });
});
