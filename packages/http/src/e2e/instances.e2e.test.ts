import { ClientId, defaultSettings, issueTokenWithPassword, registerUser } from '@pos-auth/domain';
import { createArgon2PasswordHasher, ensureProjectionsCurrent, loadZxcvbnCommonPasswords } from '@pos-auth/infrastructure';
import { createTestSchema, type TestSchema } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createAuthDeps } from '../composition.js';
import { testClient } from '../testing.js';
import { bearer, logIn, me, password, refresh, signUp } from './accounts.js';
import { request } from './http.js';
import { startProcess, stopProcess, type ServerProcess } from './process.js';

/**
 * Three real server processes (the CLI's `start`) on one PostgreSQL schema, as three instances
 * behind a load balancer: racing refreshes spread over them give one child, and a revocation
 * decided on one is seen by the others at their very next request.
 */
describe('three instances on one database', () => {
  let schema: TestSchema;
  let instances: ServerProcess[] = [];
  const sha256 = "encode(sha256(convert_to($1, 'UTF8')), 'hex')";

  beforeAll(async () => {
    schema = await createTestSchema(inject('testDatabase'));
    const deps = {
      ...(await createAuthDeps(schema.pool, { passwordHasher: await createArgon2PasswordHasher(), commonPasswords: await loadZxcvbnCommonPasswords(), settings: defaultSettings })),
      // A login of long ago: its tokens are past their expiry by now, for the instances to prune.
      clock: { now: () => new Date('2024-01-01T00:00:00.000Z') },
    };
    await ensureProjectionsCurrent(schema.pool, deps.eventStore);
    await deps.eventStore.append(
      [{ streamId: 'client-admin-panel', events: [{ type: 'ClientRegistered', data: { clientId: testClient.clientId, registeredAt: '2024-01-01T00:00:00.000Z' } }], expectedVersion: 'no_stream' }],
      { metadata: { requestId: 'setup', occurredAt: '2024-01-01T00:00:00.000Z' }, credentials: [{ kind: 'client_secret', clientId: ClientId(testClient.clientId), digest: deps.digester.digest(testClient.clientSecret) }] },
    );
    await registerUser(deps, { userName: 'long-gone', password }, { principal: null, clientId: null }, { requestId: 'setup' });
    await issueTokenWithPassword(deps, { clientId: ClientId(testClient.clientId), userName: 'long-gone', password }, { requestId: 'setup' });

    // The schema reaches the instances through DATABASE_URL alone, as a libpq startup option.
    const url = new URL(schema.connectionString);
    url.searchParams.set('options', `-c search_path=${schema.schema}`);
    instances = await Promise.all(
      [1, 2, 3].map(() =>
        startProcess({ DATABASE_URL: url.toString(), AUTH_CLIENTS: `${testClient.clientId}:${testClient.clientSecret}`, ISSUER: 'https://auth.pos.example/' }),
      ),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => stopProcess(instance.child)));
    await schema?.drop();
  });

  const count = async (sql: string, params: unknown[] = []) => (await schema.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) AS counted`, params)).rows[0]!.n;

  it('each instance describes itself under the public ISSUER, not the address it listens on (RFC 8414)', async () => {
    for (const instance of instances) {
      const metadata = await request(`${instance.url}/.well-known/oauth-authorization-server`);
      expect(metadata.body).toMatchObject({ issuer: 'https://auth.pos.example', token_endpoint: 'https://auth.pos.example/oauth/token' });
    }
  });

  it('each instance prunes expired tokens from its start', async () => {
    await vi.waitFor(async () => {
      expect(await count('SELECT 1 FROM access_tokens WHERE expires_at <= now() UNION ALL SELECT 1 FROM refresh_tokens WHERE expires_at <= now()')).toBe(0);
    }, { timeout: 10_000 });
    expect(instances.some((instance) => instance.output().includes('expired tokens pruned'))).toBe(true);
    // The session itself stays: pruning deletes tokens, nothing else.
    expect(await count('SELECT 1 FROM sessions')).toBe(1);
  });

  it('30 racing refreshes of one token over the three give one child; a replay of the parent once it rotated ends the session on all three', async () => {
    const [first, second, third] = instances as [ServerProcess, ServerProcess, ServerProcess];
    await signUp(first.url, 'roaming');
    const login = await logIn(second.url, testClient, 'roaming');

    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => refresh(instances[i % 3]!.url, login.refresh_token)));
    expect(replies.map((reply) => reply.status)).toEqual(Array(30).fill(201));
    expect(new Set(replies.map((reply) => reply.body.refresh_token)).size).toBe(1);
    expect(new Set(replies.map((reply) => reply.body.access_token)).size).toBe(1);
    expect(await count(`SELECT 1 FROM events WHERE type = 'TokenRefreshed' AND data->>'previousRefreshTokenDigest' = ${sha256}`, [login.refresh_token])).toBe(1);

    // The child is the session's live token: it rotates, on another instance.
    const child = replies[0]!.body;
    const grandchild = await refresh(third.url, child.refresh_token);
    expect(grandchild.status).toBe(201);
    expect((await me(first.url, grandchild.body.access_token)).status).toBe(200);

    // The parent again, after its child rotated: reuse.
    const replay = await refresh(first.url, login.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'invalid_grant' });

    for (const instance of instances) {
      expect((await me(instance.url, grandchild.body.access_token)).status, instance.url).toBe(401);
      expect((await refresh(instance.url, grandchild.body.refresh_token)).status, instance.url).toBe(400);
    }
    const { rows } = await schema.pool.query<{ type: string }>(
      `SELECT e.type FROM events e JOIN refresh_tokens r ON e.stream_id = 'session-' || r.session_id
       WHERE r.digest = ${sha256} ORDER BY e.stream_position`,
      [login.refresh_token],
    );
    expect(rows.map((row) => row.type)).toEqual(['TokenIssued', 'TokenRefreshed', 'TokenRefreshed', 'RefreshTokenReused', 'SessionRevoked']);
  });

  it('with token checks cached on each instance, a logout, a role change or a disable on one is seen by all three at their very next request', async () => {
    const admin = await logIn(instances[0]!.url, testClient, 'long-gone');
    const cookId = await signUp(instances[0]!.url, 'cached-cook', { role: 'chef', adminToken: admin.access_token });
    /** Each instance has checked the token (twice: the second from its cache). */
    const warm = async (token: string) => {
      for (const instance of instances) for (const _ of [1, 2]) expect((await me(instance.url, token)).status).toBe(200);
    };
    const patch = (instance: ServerProcess, body: unknown) =>
      request(`${instance.url}/users/${cookId}`, { method: 'PATCH', headers: { ...bearer(admin.access_token), 'content-type': 'application/json' }, body: JSON.stringify(body) });

    for (let round = 0; round < 10; round += 1) {
      const session = await logIn(instances[round % 3]!.url, testClient, 'cached-cook');
      await warm(session.access_token);
      const logout = await request(`${instances[round % 3]!.url}/auth/logout`, { method: 'POST', headers: bearer(session.access_token) });
      expect(logout.status).toBe(204);
      for (const instance of instances) expect((await me(instance.url, session.access_token)).status, `round ${round}`).toBe(401);
    }

    const session = await logIn(instances[0]!.url, testClient, 'cached-cook');
    await warm(session.access_token);
    expect((await patch(instances[1]!, { role: 'expeditor' })).status).toBe(200);
    for (const instance of instances) expect((await me(instance.url, session.access_token)).body.role).toBe('expeditor');
    expect((await patch(instances[2]!, { disabled: true })).status).toBe(200);
    for (const instance of instances) expect((await me(instance.url, session.access_token)).status).toBe(401);
  });
});
