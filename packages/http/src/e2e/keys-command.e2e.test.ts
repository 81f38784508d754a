import { createTestSchema, type TestSchema } from '@pos-auth/infrastructure/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli as run, schemaDatabaseUrl } from './process.js';

describe('pos-auth keys rotate', () => {
  let db: TestSchema;
  let env: Record<string, string>;
  const keys = async () => (await db.pool.query<{ kid: string; not_before: Date }>('SELECT kid, not_before FROM signing_keys ORDER BY not_before')).rows;

  beforeAll(async () => {
    db = await createTestSchema(inject('testDatabase'), { max: 2 });
    env = { DATABASE_URL: schemaDatabaseUrl(db.connectionString, db.schema) };
  });
  afterAll(() => db?.drop());

  it('makes the first key, signing at once, then a second that signs from --activate-in seconds on; it prints ids, never a key', async () => {
    const first = await run(['keys', 'rotate'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const [created] = await keys();
    expect(first.stdout).toBe(`Signing key ${created!.kid} is published now and signs from ${created!.not_before.toISOString()} (in 0 s).\n`);

    const second = await run(['keys', 'rotate', '--activate-in', '60'], { ...env, ACCESS_TOKEN_FORMAT: 'jwt' });
    expect(second.code).toBe(0);
    const [, rotated] = await keys();
    expect(rotated!.not_before.getTime() - Date.now()).toBeGreaterThan(50_000);
    // Published until the switch, plus 300 s of JWT lifetime, a 10 s refresh interval and 60 s of clock skew.
    const until = new Date(rotated!.not_before.getTime() + 370_000).toISOString();
    expect(second.stdout).toBe(
      `Signing key ${rotated!.kid} is published now and signs from ${rotated!.not_before.toISOString()} (in 60 s).\n` +
        `Key ${created!.kid} signs until then and stays published until ${until}.\n`,
    );
    const { rows } = await db.pool.query<{ private_jwk: { d: string } }>('SELECT private_jwk FROM signing_keys');
    for (const { private_jwk: jwk } of rows) expect(first.stdout + second.stdout).not.toContain(jwk.d);
  });

  it.each([
    ['keys given by configuration', ['keys', 'rotate'], { ACCESS_TOKEN_SIGNING_KEYS: '{"keys":[]}' }, 'The signing keys come from ACCESS_TOKEN_SIGNING_KEYS'],
    ['an --activate-in that is not whole seconds', ['keys', 'rotate', '--activate-in', 'soon'], {}, '--activate-in must be a whole number of seconds'],
  ])('refuses %s, changing nothing', async (_, args, extra, message) => {
    const before = await keys();
    const result = await run(args, { ...env, ...extra });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(await keys()).toEqual(before);
  });

  it('answers `keys` without an action with its usage, a usage error (2), changing nothing', async () => {
    const before = await keys();
    const result = await run(['keys'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Usage: pos-auth keys[\s\S]*rotate/u);
    expect(await keys()).toEqual(before);
  });
});
