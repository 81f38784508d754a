import type { Clock } from '@pos-auth/domain';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { retentionSeconds, signingKeyTimings } from '../crypto/signing-keys.js';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { createPostgresSigningKeys, ensureSigningKey, rotateSigningKey } from './signing-keys.js';

let db: TestSchema;

beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'), { max: 10 });
});
afterAll(() => db?.drop());
beforeEach(async () => {
  await db.pool.query('DELETE FROM signing_keys');
});

/** A clock the test moves; every instance of a test reads the same one. */
const manualClock = (start: string) => {
  let now = Date.parse(start);
  const clock: Clock & { advance(seconds: number): void; at(iso: string): void } = {
    now: () => new Date(now),
    advance: (seconds) => {
      now += seconds * 1000;
    },
    at: (iso) => {
      now = Date.parse(iso);
    },
  };
  return clock;
};

const ttl = 300;
const instance = (clock: Clock) => createPostgresSigningKeys(db.pool, { clock, accessTokenTtlSeconds: ttl });
const signing = async (keys: ReturnType<typeof instance>) => (await keys.signingKey()).kid;
const published = async (keys: ReturnType<typeof instance>) => (await keys.publishedKeys()).map((key) => key.kid);

describe('signing keys in PostgreSQL', () => {
  it('are made once on a first start, however many instances start at once', async () => {
    const made = await Promise.all(Array.from({ length: 8 }, () => ensureSigningKey(db.pool, new Date())));
    expect(made.filter((kid) => kid !== null)).toHaveLength(1);
    expect((await db.pool.query('SELECT kid FROM signing_keys')).rows).toEqual([{ kid: made.find((kid) => kid !== null) }]);
    expect(await ensureSigningKey(db.pool, new Date())).toBeNull();
  });

  it('publish only public keys', async () => {
    await ensureSigningKey(db.pool, new Date());
    const [key] = await instance(manualClock(new Date().toISOString())).publishedKeys();
    expect(Object.keys(key!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
  });

  it('rotate to a key that signs at once when there was none', async () => {
    const rotation = await rotateSigningKey(db.pool, { now: new Date('2026-01-01T10:00:00Z') });
    expect(rotation).toEqual({ kid: expect.any(String), signsFrom: new Date('2026-01-01T10:00:00Z'), previousKid: null });
  });

  it('schedule a rotation after every existing key, even from a clock behind the one that made them', async () => {
    const first = await ensureSigningKey(db.pool, new Date('2026-01-01T10:00:30Z'));
    const rotation = await rotateSigningKey(db.pool, { now: new Date('2026-01-01T10:00:00Z'), activateInSeconds: 0 });
    expect(rotation).toMatchObject({ signsFrom: new Date('2026-01-01T10:00:30.001Z'), previousKid: first });
    expect(await signing(instance(manualClock('2026-01-01T10:00:31Z')))).toBe(rotation.kid);
  });

  it('reach every instance within the refresh interval when a rotation switches at once', async () => {
    const clock = manualClock('2026-01-01T10:00:00Z');
    const first = await ensureSigningKey(db.pool, clock.now());
    const a = instance(clock);
    const b = instance(clock);
    expect([await signing(a), await signing(b)]).toEqual([first, first]);

    clock.advance(1);
    const { kid: second } = await rotateSigningKey(db.pool, { now: clock.now(), activateInSeconds: 0 });
    // Read a second before the rotation, both still sign with the first key ...
    clock.advance(signingKeyTimings.refreshIntervalSeconds - 1 - 0.001);
    expect([await signing(a), await signing(b)]).toEqual([first, first]);
    // ... and read it again once the interval has passed.
    clock.advance(0.001);
    expect([await signing(a), await signing(b)]).toEqual([second, second]);
  });

  it('switch every instance at the same instant when the new key was published first (the default)', async () => {
    const clock = manualClock('2026-01-01T10:00:00Z');
    const first = await ensureSigningKey(db.pool, clock.now());
    const a = instance(clock);
    const b = instance(clock);
    const rotation = await rotateSigningKey(db.pool, { now: clock.now() });
    expect(rotation.signsFrom.getTime() - clock.now().getTime()).toBe(370_000);

    // Each instance reads the key set at its own moment, well before the switch.
    clock.advance(100);
    expect(await published(a)).toEqual([first, rotation.kid]);
    clock.advance(7);
    expect(await published(b)).toEqual([first, rotation.kid]);
    clock.at(new Date(rotation.signsFrom.getTime() - 1).toISOString());
    expect([await signing(a), await signing(b)]).toEqual([first, first]);
    clock.at(rotation.signsFrom.toISOString());
    expect([await signing(a), await signing(b)]).toEqual([rotation.kid, rotation.kid]);
  });

  it('keep the old key published for the retention after it stopped signing, then drop it', async () => {
    const clock = manualClock('2026-01-01T10:00:00Z');
    const first = await ensureSigningKey(db.pool, clock.now());
    const { kid: second, signsFrom } = await rotateSigningKey(db.pool, { now: clock.now(), activateInSeconds: 0 });
    const keys = instance(clock);
    clock.at(new Date(signsFrom.getTime() + retentionSeconds(ttl) * 1000 - 1).toISOString());
    expect(await published(keys)).toEqual([first, second]);
    clock.advance(signingKeyTimings.refreshIntervalSeconds);
    expect(await published(keys)).toEqual([second]);
    // Not published, but still kept: a replay of a token it signed can be signed again.
    expect((await keys.signingKeyById(first!))?.kid).toBe(first);
  });

  it('find a key made after the instance last read the set (a replay of a token another instance signed)', async () => {
    const clock = manualClock('2026-01-01T10:00:00Z');
    await ensureSigningKey(db.pool, clock.now());
    const keys = instance(clock);
    await keys.signingKey();
    const { kid } = await rotateSigningKey(db.pool, { now: clock.now(), activateInSeconds: 0 });
    expect((await keys.signingKeyById(kid))?.kid).toBe(kid);
    expect(await keys.signingKeyById('no-such-key')).toBeNull();
  });

  it('refuse to sign when no key exists', async () => {
    await expect(instance(manualClock('2026-01-01T10:00:00Z')).signingKey()).rejects.toThrow('No signing key exists');
  });
});
