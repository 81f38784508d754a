import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { DomainError } from '@pos-auth/domain';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Authorization } from '../rest/credentials.js';
import { introspectionResponseOf, sessionResourceOf, userPageOf, userResourceOf } from '../resources.js';
import { basicAuth, startTestServer, type TestServer } from '../testing.js';
import { appRouter } from '../trpc/router.js';
import { bearer, logIn, password, signUp, type Tokens } from './accounts.js';
import { form, json, request, type Reply } from './http.js';

/**
 * REST and tRPC call the same use cases, so they answer alike: the same data (in each transport's
 * shape) and the same refusals (status and domain code), on one server and one database.
 */
describe('REST and tRPC agree', () => {
  let server: TestServer;
  let admin: Tokens;
  let adminId: string;
  let patron: Tokens;
  let subjectId: string;
  const kitchen = { clientId: 'kitchen-display', clientSecret: 'kitchen-display-secret' };

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'), { clients: [{ clientId: 'admin-panel', clientSecret: 'admin-panel-secret' }, kitchen] });
    adminId = await signUp(server.url, 'agree-admin');
    admin = await logIn(server.url, server.client, 'agree-admin');
    await signUp(server.url, 'agree-patron');
    patron = await logIn(server.url, server.client, 'agree-patron');
    subjectId = await signUp(server.url, 'agree-subject');
    await logIn(server.url, server.client, 'agree-subject');
    const emailedId = await signUp(server.url, 'agree-emailed');
    await request(`${server.url}/users/${emailedId}`, { ...json({ email: 'taken@example.com' }, bearer(admin.access_token)), method: 'PATCH' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const caller = (authorization: Authorization) =>
    appRouter.createCaller({ deps: server.deps, requestContext: { requestId: 'agreement' }, authorization: () => authorization, noteClient: () => undefined });
  const trpcAs = (tokens: Tokens) => caller({ scheme: 'bearer', token: tokens.access_token });
  const rest = (path: string, tokens: Tokens, init: RequestInit = {}) =>
    request(`${server.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...bearer(tokens.access_token) } });

  it('answer the same data', async () => {
    const firstPage = await trpcAs(admin).users.list({ limit: 2, q: 'AGREE-' });
    expect((await rest('/users?limit=2&q=AGREE-', admin)).body).toEqual(userPageOf(firstPage));
    const secondPage = await trpcAs(admin).users.list({ limit: 2, q: 'AGREE-', cursor: firstPage.nextCursor! });
    expect((await rest(`/users?limit=2&q=AGREE-&cursor=${firstPage.nextCursor}`, admin)).body).toEqual(userPageOf(secondPage));
    expect(secondPage.items[0]?.userName).not.toBe(firstPage.items[1]?.userName);

    expect((await rest('/users/me/sessions', admin)).body).toEqual((await trpcAs(admin).sessions.list()).map(sessionResourceOf));
    expect((await rest(`/users/${subjectId}/sessions`, admin)).body).toEqual((await trpcAs(admin).sessions.list({ userId: subjectId })).map(sessionResourceOf));

    const updated = await trpcAs(admin).users.update({ userId: subjectId, name: 'Subject', role: 'expeditor' });
    expect((await rest(`/users/${subjectId}`, admin)).body).toEqual(userResourceOf(updated));

    const viaTrpc = await caller({ scheme: 'basic', credentials: kitchen }).auth.introspect({ token: admin.access_token });
    const viaRest = await request(`${server.url}/oauth/introspect`, form({ token: admin.access_token }, { authorization: basicAuth(kitchen) }));
    expect(viaRest.body).toEqual(introspectionResponseOf(viaTrpc));
    expect(viaTrpc).toMatchObject({ active: true, userId: adminId });
  });

  /** What a tRPC call was refused with: its HTTP status and domain code (null for an input that failed its schema). */
  const trpcRefusal = async (call: () => Promise<unknown>) => {
    const error = await call().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TRPCError);
    const cause = (error as TRPCError).cause;
    return { status: getHTTPStatusCodeFromError(error as TRPCError), code: cause instanceof DomainError ? cause.code : null };
  };
  const restRefusal = (reply: Reply) => ({ status: reply.status, code: (reply.body?.code as string | undefined) ?? null });

  const unknownId = '5f0c2d3e-0000-4000-8000-00000000dead';

  it.each<[string, () => Promise<Reply>, () => Promise<unknown>, { status: number; code: string | null }]>([
    ['a patron listing accounts', () => rest('/users', patron), () => trpcAs(patron).users.list({}), { status: 403, code: 'FORBIDDEN' }],
    [
      'a patron changing an account',
      () => rest(`/users/${subjectId}`, patron, { ...json({ role: 'admin' }), method: 'PATCH' }),
      () => trpcAs(patron).users.update({ userId: subjectId, role: 'admin' }),
      { status: 403, code: 'FORBIDDEN' },
    ],
    [
      'a patron resetting a password',
      () => rest(`/users/${subjectId}/password`, patron, json({ new_password: 'a brand new passphrase' })),
      () => trpcAs(patron).users.resetPassword({ userId: subjectId, newPassword: 'a brand new passphrase' }),
      { status: 403, code: 'FORBIDDEN' },
    ],
    ['a patron erasing an account', () => rest(`/users/${subjectId}`, patron, { method: 'DELETE' }), () => trpcAs(patron).users.erase({ userId: subjectId }), { status: 403, code: 'FORBIDDEN' }],
    [
      "a patron listing another's sessions",
      () => rest(`/users/${subjectId}/sessions`, patron),
      () => trpcAs(patron).sessions.list({ userId: subjectId }),
      { status: 403, code: 'FORBIDDEN' },
    ],
    [
      'the last admin demoting themselves',
      () => rest(`/users/${adminId}`, admin, { ...json({ role: 'chef' }), method: 'PATCH' }),
      () => trpcAs(admin).users.update({ userId: adminId, role: 'chef' }),
      { status: 409, code: 'LAST_ADMIN' },
    ],
    [
      'an email someone has',
      () => rest(`/users/${subjectId}`, admin, { ...json({ email: 'Taken@example.com' }), method: 'PATCH' }),
      () => trpcAs(admin).users.update({ userId: subjectId, email: 'Taken@example.com' }),
      { status: 409, code: 'EMAIL_TAKEN' },
    ],
    [
      'an unknown user',
      () => rest(`/users/${unknownId}`, admin, { ...json({ role: 'chef' }), method: 'PATCH' }),
      () => trpcAs(admin).users.update({ userId: unknownId, role: 'chef' }),
      { status: 404, code: 'USER_NOT_FOUND' },
    ],
    ['a user id that is no UUID', () => rest('/users/nobody/sessions', admin), () => trpcAs(admin).sessions.list({ userId: 'nobody' }), { status: 404, code: 'USER_NOT_FOUND' }],
    [
      'an unknown session',
      () => rest(`/users/me/sessions/${unknownId}`, admin, { method: 'DELETE' }),
      () => trpcAs(admin).sessions.end({ sessionId: unknownId }),
      { status: 404, code: 'SESSION_NOT_FOUND' },
    ],
    [
      'a wrong current password',
      () => rest('/users/me/password', patron, json({ current_password: 'not it at all', new_password: 'a brand new passphrase' })),
      () => trpcAs(patron).users.changePassword({ currentPassword: 'not it at all', newPassword: 'a brand new passphrase' }),
      { status: 400, code: 'VALIDATION_FAILED' },
    ],
    ['a cursor this service did not make', () => rest('/users?cursor=forged', admin), () => trpcAs(admin).users.list({ cursor: 'forged' }), { status: 400, code: 'VALIDATION_FAILED' }],
    ['a limit out of range', () => rest('/users?limit=500', admin), () => trpcAs(admin).users.list({ limit: 500 }), { status: 400, code: null }],
    [
      'no access token',
      () => request(`${server.url}/auth/logout`, { method: 'POST' }),
      () => caller({ scheme: 'none' }).auth.logout(),
      { status: 401, code: 'AUTHENTICATION_REQUIRED' },
    ],
    [
      'an access token that is no token',
      () => request(`${server.url}/users/me/sessions`, { headers: bearer('forged') }),
      () => caller({ scheme: 'bearer', token: 'forged' }).sessions.list(),
      { status: 401, code: 'INVALID_TOKEN' },
    ],
  ])('refuse alike: %s', async (_, viaRest, viaTrpc, expected) => {
    expect(restRefusal(await viaRest())).toEqual(expected);
    expect(await trpcRefusal(viaTrpc)).toEqual(expected);
  });

  it('refuse alike on the OAuth endpoints: a token of another client is a 400, a bad client a 401', async () => {
    const tokens = await logIn(server.url, server.client, 'agree-patron', password);
    const restForeign = await request(`${server.url}/oauth/revoke`, form({ token: tokens.refresh_token }, { authorization: basicAuth(kitchen) }));
    expect(restForeign).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await trpcRefusal(() => caller({ scheme: 'basic', credentials: kitchen }).auth.revoke({ token: tokens.refresh_token }))).toEqual({
      status: 400,
      code: 'TOKEN_OF_ANOTHER_CLIENT',
    });
    const badClient = { ...kitchen, clientSecret: 'wrong' };
    expect((await request(`${server.url}/oauth/introspect`, form({ token: tokens.access_token }, { authorization: basicAuth(badClient) }))).status).toBe(401);
    expect(await trpcRefusal(() => caller({ scheme: 'basic', credentials: badClient }).auth.introspect({ token: tokens.access_token }))).toEqual({
      status: 401,
      code: 'INVALID_CLIENT',
    });
  });

  it('end sessions alike: tRPC logout and revocation stop the tokens REST then sees', async () => {
    const [loggedOut, revoked, ended] = await Promise.all(['agree-patron', 'agree-patron', 'agree-patron'].map((name) => logIn(server.url, server.client, name)));
    await trpcAs(loggedOut!).auth.logout({ scope: 'current' });
    await caller({ scheme: 'basic', credentials: server.client }).auth.revoke({ token: revoked!.refresh_token });
    const endedId = (await trpcAs(ended!).sessions.list()).find((session) => session.current)!.id;
    await trpcAs(admin).sessions.end({ userId: (await trpcAs(ended!).users.me()).id, sessionId: endedId });
    for (const tokens of [loggedOut!, revoked!, ended!]) {
      expect((await request(`${server.url}/users/me`, { headers: bearer(tokens.access_token) })).status).toBe(401);
    }
  });
});
