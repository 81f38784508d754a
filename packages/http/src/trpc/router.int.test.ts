import { TRPCError } from '@trpc/server';
import { defaultSettings, type AuthDeps } from '@pos-auth/domain';
import { createArgon2PasswordHasher, loadZxcvbnCommonPasswords } from '@pos-auth/infrastructure';
import { createTestSchema } from '@pos-auth/infrastructure/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAuthDeps, seedClients } from '../composition.js';
import type { Authorization } from '../rest/credentials.js';
import { testClient } from '../testing.js';
import { appRouter } from './router.js';

/** The procedures through a caller: no HTTP, the real use cases on the real database. */
describe('tRPC router', () => {
  let deps: AuthDeps;
  let drop: () => Promise<void>;
  const password = 'correct horse battery staple';

  const caller = (authorization: Authorization = { scheme: 'none' }) =>
    appRouter.createCaller({ deps, requestContext: { requestId: 'trpc-test' }, authorization: () => authorization, noteClient: () => undefined });
  const asClient = () => caller({ scheme: 'basic', credentials: testClient });

  beforeAll(async () => {
    const schema = await createTestSchema(inject('testDatabase'));
    drop = schema.drop;
    deps = await createAuthDeps(schema.pool, {
      passwordHasher: await createArgon2PasswordHasher(),
      commonPasswords: await loadZxcvbnCommonPasswords(),
      settings: defaultSettings,
    });
    await seedClients(deps, [testClient], pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await drop?.();
  });

  const codeOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TRPCError);
    return { code: (error as TRPCError).code, domainCode: ((error as TRPCError).cause as { code?: string } | undefined)?.code };
  };

  it('registers, logs in, reads the caller and refreshes', async () => {
    const user = await caller().users.register({ userName: 'Trpc-Admin', password });
    expect(user).toMatchObject({ userName: 'Trpc-Admin', role: 'admin', email: null });

    const tokens = await asClient().auth.token({ grantType: 'password', userName: 'trpc-admin', password });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 1800 });

    const me = await caller({ scheme: 'bearer', token: tokens.accessToken }).users.me();
    expect(me).toEqual(user);

    const refreshed = await caller().auth.refresh({ refreshToken: tokens.refreshToken });
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    // Inside the grace window the parent answers the same child.
    expect((await caller().auth.refresh({ refreshToken: tokens.refreshToken })).refreshToken).toBe(refreshed.refreshToken);

    const viaTokenEndpoint = await asClient().auth.token({ grantType: 'refresh_token', refreshToken: refreshed.refreshToken });
    expect(viaTokenEndpoint.accessToken).not.toBe(refreshed.accessToken);
    // Once the child rotated, the parent is reuse: refused, as REST refuses it.
    expect(await codeOf(caller().auth.refresh({ refreshToken: tokens.refreshToken }))).toEqual({ code: 'BAD_REQUEST', domainCode: 'INVALID_GRANT' });
  });

  it('maps domain errors to tRPC codes', async () => {
    await caller().users.register({ userName: 'taken', password });
    expect(await codeOf(caller().users.register({ userName: 'TAKEN', password }))).toEqual({ code: 'CONFLICT', domainCode: 'USER_NAME_TAKEN' });
    expect(await codeOf(caller().users.register({ userName: 'x', password: 'short' }))).toEqual({ code: 'BAD_REQUEST', domainCode: 'VALIDATION_FAILED' });
    expect(await codeOf(caller().users.register({ userName: 'climber', password, role: 'admin' }))).toEqual({
      code: 'FORBIDDEN',
      domainCode: 'ROLE_ELEVATION_FORBIDDEN',
    });
    expect(await codeOf(asClient().auth.token({ grantType: 'password', userName: 'taken', password: 'wrong password' }))).toEqual({
      code: 'BAD_REQUEST',
      domainCode: 'INVALID_GRANT',
    });
    expect(await codeOf(caller().auth.token({ grantType: 'password', userName: 'taken', password }))).toEqual({ code: 'UNAUTHORIZED', domainCode: 'INVALID_CLIENT' });
    expect(
      await codeOf(caller({ scheme: 'basic', credentials: { ...testClient, clientSecret: 'nope' } }).auth.token({ grantType: 'password', userName: 'taken', password })),
    ).toEqual({ code: 'UNAUTHORIZED', domainCode: 'INVALID_CLIENT' });
    expect(await codeOf(caller().users.me())).toEqual({ code: 'UNAUTHORIZED', domainCode: 'AUTHENTICATION_REQUIRED' });
    // As on REST: credentials that are sent must be valid, even where none are needed.
    expect(
      await codeOf(caller({ scheme: 'basic', credentials: { ...testClient, clientSecret: 'nope' } }).users.register({ userName: 'sneaky', password })),
    ).toEqual({ code: 'UNAUTHORIZED', domainCode: 'INVALID_CLIENT' });
    expect(await codeOf(caller({ scheme: 'bearer', token: 'bogus' }).users.me())).toEqual({ code: 'UNAUTHORIZED', domainCode: 'INVALID_TOKEN' });
  });
});
