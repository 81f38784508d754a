import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  ClientId,
  InvalidGrantError,
  InvalidTokenError,
  authenticateAccessToken,
  defaultSettings,
  issueTokenWithPassword,
  refreshToken,
  registerUser,
  type AuthDeps,
  type IssuedTokens,
} from '@pos-auth/domain';
import { createArgon2PasswordHasher, loadZxcvbnCommonPasswords } from '@pos-auth/infrastructure';
import { createTestSchema } from '@pos-auth/infrastructure/testing';
import { pino } from 'pino';
import { createAuthDeps, seedClients, type Runtime } from './composition.js';
import { testClient } from './testing.js';

/**
 * The token checks, table-driven, with a frozen clock so that "expired" means an exact instant:
 * the real use cases, adapters and database; only time is ours.
 */
/** The same token with its last character changed. */
const flipLast = (token: string) => token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');

describe('token security with a frozen clock', () => {
  let deps: Runtime;
  let drop: () => Promise<void>;
  let frozen = new Date('2030-01-01T00:00:00.000Z');
  const at = (iso: string) => {
    frozen = new Date(iso);
  };
  const context = { requestId: 'security-test' };
  const password = 'correct horse battery staple';
  const panel = ClientId(testClient.clientId);

  beforeAll(async () => {
    const schema = await createTestSchema(inject('testDatabase'));
    drop = schema.drop;
    deps = {
      ...(await createAuthDeps(schema.pool, {
        passwordHasher: await createArgon2PasswordHasher(),
        commonPasswords: await loadZxcvbnCommonPasswords(),
        settings: { ...defaultSettings, accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 3600 },
      })),
      clock: { now: () => frozen },
    };
    await seedClients(deps, [testClient, { clientId: 'other', clientSecret: 'other-secret' }], pino({ level: 'silent' }));
    await registerUser(deps, { userName: 'guarded', password }, { principal: null, clientId: null }, context);
  });
  afterAll(async () => {
    await drop?.();
  });

  const login = async (iso: string): Promise<IssuedTokens> => {
    at(iso);
    return issueTokenWithPassword(deps, { clientId: panel, userName: 'guarded', password }, context);
  };

  it('states expiry as whole seconds and the same instant in ISO 8601', async () => {
    const tokens = await login('2030-01-01T00:00:00.000Z');
    expect(tokens.expiresIn).toBe(60);
    expect(tokens.expiresAt).toBe('2030-01-01T00:01:00.000Z');
  });

  it.each([
    ['one millisecond before expires_at', '2030-01-01T00:00:59.999Z', true],
    ['at expires_at', '2030-01-01T00:01:00.000Z', false],
    ['after expires_at', '2030-01-01T00:05:00.000Z', false],
  ])('an access token %s is %s', async (_, when, valid) => {
    const tokens = await login('2030-01-01T00:00:00.000Z');
    at(when);
    const outcome = authenticateAccessToken(deps, tokens.accessToken);
    if (valid) await expect(outcome).resolves.toMatchObject({ role: 'admin', clientId: panel });
    else await expect(outcome).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it.each([
    ['a tampered access token', (token: string) => flipLast(token)],
    ['an empty access token', () => ''],
    ['the refresh token used as an access token', (_: string, refresh: string) => refresh],
  ])('refuses %s', async (_, tamper) => {
    const tokens = await login('2030-01-01T00:00:00.000Z');
    await expect(authenticateAccessToken(deps, tamper(tokens.accessToken, tokens.refreshToken))).rejects.toBeInstanceOf(InvalidTokenError);
  });

  const refusedRefreshes: [string, (tokens: IssuedTokens) => Promise<unknown>, string][] = [
    ['an expired refresh token (at the instant)', async (tokens) => {
      at('2030-01-01T01:00:00.000Z');
      return refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context);
    }, 'refresh_token_expired'],
    ['a rotated refresh token once the grace window has passed (at the instant)', async (tokens) => {
      await refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context);
      at('2030-01-01T00:10:10.000Z');
      return refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context);
    }, 'refresh_token_reused'],
    ['a rotated refresh token whose child has rotated, inside the window', async (tokens) => {
      const child = await refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context);
      await refreshToken(deps, { refreshToken: child.refreshToken, clientId: null }, context);
      return refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context);
    }, 'refresh_token_reused'],
    ['a refresh token of another client', (tokens) =>
      refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: ClientId('other') }, context), 'client_mismatch'],
    ['a tampered refresh token', (tokens) =>
      refreshToken(deps, { refreshToken: flipLast(tokens.refreshToken), clientId: null }, context), 'unknown_refresh_token'],
  ];

  it.each(refusedRefreshes)('refuses %s with invalid_grant', async (_, attempt, reason) => {
    const tokens = await login('2030-01-01T00:00:00.000Z');
    at('2030-01-01T00:10:00.000Z');
    const error = await attempt(tokens).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidGrantError);
    expect((error as InvalidGrantError).reason).toBe(reason);
  });

  it('accepts a refresh token one millisecond before it expires, and the new pair gets new lifetimes', async () => {
    const tokens = await login('2030-01-01T00:00:00.000Z');
    at('2030-01-01T00:59:59.999Z');
    const refreshed = await refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: panel }, context);
    expect(refreshed.expiresAt).toBe('2030-01-01T01:00:59.999Z');
  });

  it('ends a session SESSION_MAX_AGE after its login whatever its refreshes: no token outlives it', async () => {
    const capped = { ...deps, settings: { ...deps.settings, sessionMaxAgeSeconds: 7200 } };
    at('2030-01-01T00:00:00.000Z');
    let tokens = await issueTokenWithPassword(capped, { clientId: panel, userName: 'guarded', password }, context);
    for (const when of ['2030-01-01T00:50:00.000Z', '2030-01-01T01:40:00.000Z']) {
      at(when);
      tokens = await refreshToken(capped, { refreshToken: tokens.refreshToken, clientId: null }, context);
    }
    at('2030-01-01T01:59:59.999Z');
    tokens = await refreshToken(capped, { refreshToken: tokens.refreshToken, clientId: null }, context);
    expect(tokens.expiresAt).toBe('2030-01-01T02:00:00.000Z');
    at('2030-01-01T02:00:00.000Z');
    const refused = await refreshToken(capped, { refreshToken: tokens.refreshToken, clientId: null }, context).then(() => null, (e: unknown) => e);
    expect(refused).toMatchObject({ reason: 'session_expired' });
    await expect(authenticateAccessToken(capped, tokens.accessToken)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('answers a replay of the parent inside the grace window with the same child, its expiry counting down', async () => {
    const tokens = await login('2030-01-01T00:00:00.000Z');
    at('2030-01-01T00:20:00.000Z');
    const child = await refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context);
    at('2030-01-01T00:20:09.999Z');
    const replay = await refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: panel }, context);
    expect(replay).toEqual({ ...child, expiresIn: 50 });
  });

  it('ends the whole session on reuse: its newest access and refresh tokens stop working at once', async () => {
    const tokens = await login('2030-01-01T00:00:00.000Z');
    at('2030-01-01T00:20:00.000Z');
    const child = await refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context);
    at('2030-01-01T00:21:00.000Z');
    await expect(refreshToken(deps, { refreshToken: tokens.refreshToken, clientId: null }, context)).rejects.toBeInstanceOf(InvalidGrantError);
    await expect(authenticateAccessToken(deps, child.accessToken)).rejects.toBeInstanceOf(InvalidTokenError);
    const refused = await refreshToken(deps, { refreshToken: child.refreshToken, clientId: null }, context).then(() => null, (e: unknown) => e);
    expect(refused).toMatchObject({ reason: 'session_revoked' });
    await expect(authenticateAccessToken(deps, tokens.accessToken)).rejects.toBeInstanceOf(InvalidTokenError);
    const session = await deps.sessions.findSessionByTokenDigest(deps.digester.digest(child.accessToken));
    const { events } = await deps.eventStore.readStream(`session-${session?.sessionId}`);
    expect(events.map((event) => event.type)).toEqual(['TokenIssued', 'TokenRefreshed', 'RefreshTokenReused', 'SessionRevoked']);
    expect(events.at(-1)?.data).toMatchObject({ reason: 'refresh_token_reused' });
  });
});
