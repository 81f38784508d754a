import { ClientNotFoundError, InvalidClientError, authenticateClient, defaultSettings, registerClient, rotateClientSecret } from '@pos-auth/domain';
import { createArgon2PasswordHasher, loadZxcvbnCommonPasswords } from '@pos-auth/infrastructure';
import { createTestSchema, type TestSchema } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAuthDeps, type Runtime } from './composition.js';

/** Client secret rotation on the real store, with a clock the test sets. */
describe('client secret rotation', () => {
  let schema: TestSchema;
  let deps: Runtime;
  let now = new Date('2030-01-01T00:00:00.000Z');
  const context = { requestId: 'clients-test' };

  beforeAll(async () => {
    schema = await createTestSchema(inject('testDatabase'));
    deps = {
      ...(await createAuthDeps(schema.pool, {
        passwordHasher: await createArgon2PasswordHasher(),
        commonPasswords: await loadZxcvbnCommonPasswords(),
        settings: defaultSettings,
      })),
      clock: { now: () => now },
    };
    await registerClient(deps, { clientId: 'orders', clientSecret: 'first-secret-1' }, context);
  });
  afterAll(() => schema?.drop());

  const reasonOf = (promise: Promise<unknown>) => promise.then(() => 'accepted', (error: unknown) => (error instanceof InvalidClientError ? error.reason : error));

  it('keeps the replaced secret working until the overlap ends, not a moment after; the new one at once', async () => {
    now = new Date('2030-01-01T00:00:00.000Z');
    expect(await rotateClientSecret(deps, { clientId: 'orders', newSecret: 'second-secret-2', overlapSeconds: 600 }, context)).toEqual({
      previousSecretValidUntil: '2030-01-01T00:10:00.000Z',
    });
    expect(await reasonOf(authenticateClient(deps, { clientId: 'orders', clientSecret: 'second-secret-2' }))).toBe('accepted');
    now = new Date('2030-01-01T00:09:59.999Z');
    expect(await reasonOf(authenticateClient(deps, { clientId: 'orders', clientSecret: 'first-secret-1' }))).toBe('accepted');
    now = new Date('2030-01-01T00:10:00.000Z');
    expect(await reasonOf(authenticateClient(deps, { clientId: 'orders', clientSecret: 'first-secret-1' }))).toBe('rotated_client_secret_past_its_overlap');
    expect(await reasonOf(authenticateClient(deps, { clientId: 'orders', clientSecret: 'not-a-secret' }))).toBe('wrong_client_secret');
  });

  it('a second rotation leaves only the secret it replaced in the overlap', async () => {
    now = new Date('2030-01-02T00:00:00.000Z');
    await rotateClientSecret(deps, { clientId: 'orders', newSecret: 'third-secret-3', overlapSeconds: 600 }, context);
    expect(await reasonOf(authenticateClient(deps, { clientId: 'orders', clientSecret: 'second-secret-2' }))).toBe('accepted');
    expect(await reasonOf(authenticateClient(deps, { clientId: 'orders', clientSecret: 'first-secret-1' }))).toBe('wrong_client_secret');
  });

  it('is recorded as an event, with no secret or digest in the log; the client listing shows when', async () => {
    const { events } = await deps.eventStore.readStream('client-orders');
    expect(events.map((event) => event.type)).toEqual(['ClientRegistered', 'ClientSecretRotated', 'ClientSecretRotated']);
    const { rows } = await schema.pool.query<{ text: string }>('SELECT data::text || metadata::text AS text FROM events');
    const log = rows.map((row) => row.text).join('\n');
    for (const secret of ['first-secret-1', 'second-secret-2', 'third-secret-3']) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(deps.digester.digest(secret));
    }
    expect(await deps.clients.listClients()).toEqual([{ clientId: 'orders', registeredAt: '2030-01-01T00:00:00.000Z', secretRotatedAt: '2030-01-02T00:00:00.000Z' }]);
  });

  it('refuses to rotate the secret of an unknown client, and a short secret', async () => {
    await expect(rotateClientSecret(deps, { clientId: 'nobody', newSecret: 'long-enough-secret' }, context)).rejects.toBeInstanceOf(ClientNotFoundError);
    await expect(rotateClientSecret(deps, { clientId: 'orders', newSecret: 'short' }, context)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
