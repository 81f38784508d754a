import type { Clock } from '@pos-auth/domain';
import type { JWK } from 'jose';
import type pg from 'pg';
import {
  defaultActivationDelaySeconds,
  generateSigningKey,
  importSigningKey,
  keySchedule,
  retentionSeconds,
  signingAlgorithm,
  signingKeyTimings,
  type SigningKey,
  type SigningKeys,
  type StoredSigningKey,
} from '../crypto/signing-keys.js';
import { inTransaction } from './transaction.js';

interface SigningKeyRow {
  kid: string;
  public_jwk: JWK;
  private_jwk: JWK;
  not_before: Date;
}

const toStored = (row: SigningKeyRow): StoredSigningKey => ({
  kid: row.kid,
  publicJwk: row.public_jwk,
  privateJwk: row.private_jwk,
  notBefore: row.not_before,
});

const readKeys = async (client: pg.Pool | pg.PoolClient): Promise<StoredSigningKey[]> => {
  const { rows } = await client.query<SigningKeyRow>('SELECT kid, public_jwk, private_jwk, not_before FROM signing_keys');
  return rows.map(toStored);
};

/** Key changes take turns, per schema (as migrations do), so two first starts make one key. */
const lockKeys = (client: pg.PoolClient) =>
  client.query("SELECT pg_advisory_xact_lock(hashtext('pos-auth:signing-keys'), hashtext(coalesce(current_schema(), '')))");

const insertKey = async (client: pg.PoolClient, notBefore: Date) => {
  const key = await generateSigningKey();
  await client.query('INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, not_before) VALUES ($1, $2, $3, $4, $5)', [
    key.kid,
    signingAlgorithm,
    key.publicJwk,
    key.privateJwk,
    notBefore,
  ]);
  return key.kid;
};

/**
 * Makes the first signing key when there is none (the first start in JWT mode); several
 * instances starting at once make one. Returns its kid, or null when keys existed.
 *
 * @example
 * const created = await ensureSigningKey(pool, new Date());
 */
export const ensureSigningKey = (pool: pg.Pool, now: Date): Promise<string | null> =>
  inTransaction(pool, async (client) => {
    await lockKeys(client);
    const { rows } = await client.query('SELECT 1 FROM signing_keys LIMIT 1');
    return rows.length > 0 ? null : insertKey(client, now);
  });

export interface RotationOptions {
  readonly now: Date;
  /**
   * Seconds from now until the new key signs; it is published at once. The default gives every
   * instance and every JWKS cache time to learn it first; 0 switches at once (an emergency), and
   * a resource server then learns the key by refetching the JWKS on the unknown `kid`.
   */
  readonly activateInSeconds?: number;
}

export interface Rotation {
  readonly kid: string;
  readonly signsFrom: Date;
  /** The key that signs until then; null when there was none (the new key then signs at once). */
  readonly previousKid: string | null;
}

/**
 * Rotates the signing key: a new key, published now, signs from `now + activateInSeconds` (or
 * just after the latest key's start, when that is later). The previous key signs until then and stays published for an access-token lifetime after (see
 * `retentionSeconds`). Nothing is updated or deleted: the schedule is the keys' `not_before`.
 *
 * @example
 * const { kid, signsFrom, previousKid } = await rotateSigningKey(pool, { now: new Date() });
 */
export const rotateSigningKey = (pool: pg.Pool, options: RotationOptions): Promise<Rotation> => {
  const delay = options.activateInSeconds ?? defaultActivationDelaySeconds;
  if (!Number.isInteger(delay) || delay < 0) throw new TypeError('rotateSigningKey: activateInSeconds must be a whole number from 0');
  return inTransaction(pool, async (client) => {
    await lockKeys(client);
    const keys = await readKeys(client);
    const previous = keySchedule(keys, options.now.getTime(), 0).signing;
    // After every key there is, so that it is the last in the schedule even when this clock is
    // behind the one that made the latest key.
    const latest = Math.max(...keys.map((key) => key.notBefore.getTime() + 1));
    const signsFrom = new Date(Math.max(previous === null ? options.now.getTime() : options.now.getTime() + delay * 1000, latest));
    const kid = await insertKey(client, signsFrom);
    return { kid, signsFrom, previousKid: previous?.kid ?? null };
  });
};

export interface PostgresSigningKeysOptions {
  readonly clock: Clock;
  /** The access-token lifetime: how long a key stays published after it stopped signing depends on it. */
  readonly accessTokenTtlSeconds: number;
  /** How often the key set is read again (default `signingKeyTimings.refreshIntervalSeconds`). */
  readonly refreshIntervalSeconds?: number;
}

/**
 * The signing keys in `signing_keys`, shared by every instance on the database. Each instance
 * reads the whole (small) set at most once per refresh interval and decides from it, by its own
 * clock, which key signs and which are published: a rotation reaches it within the interval, and
 * a rotation whose key was published earlier than that (the default) switches every instance at
 * the same instant. A key not in the set read last is looked up again once before it is called
 * unknown. A failed read is not kept: the next call reads again.
 *
 * @example
 * const keys = createPostgresSigningKeys(pool, { clock: systemClock, accessTokenTtlSeconds: 300 });
 * const signer = createJoseAccessTokenSigner(keys, { issuer, audience });
 */
export const createPostgresSigningKeys = (pool: pg.Pool, options: PostgresSigningKeysOptions): SigningKeys => {
  const refreshMs = (options.refreshIntervalSeconds ?? signingKeyTimings.refreshIntervalSeconds) * 1000;
  const retentionMs = retentionSeconds(options.accessTokenTtlSeconds) * 1000;
  const imported = new Map<string, Promise<SigningKey>>();
  let cached: { readonly readAt: number; readonly keys: Promise<StoredSigningKey[]> } | undefined;

  const read = (): Promise<StoredSigningKey[]> => {
    const keys = readKeys(pool);
    const entry = { readAt: options.clock.now().getTime(), keys };
    cached = entry;
    keys.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return keys;
  };
  const current = () => (cached !== undefined && options.clock.now().getTime() - cached.readAt < refreshMs ? cached.keys : read());
  const importOnce = (key: StoredSigningKey): Promise<SigningKey> => {
    let found = imported.get(key.kid);
    if (found === undefined) {
      found = importSigningKey(key.kid, key.privateJwk);
      imported.set(key.kid, found);
    }
    return found;
  };

  return {
    async signingKey() {
      const { signing } = keySchedule(await current(), options.clock.now().getTime(), retentionMs);
      if (signing === null) throw new Error('No signing key exists: the service makes one at start in JWT mode (ensureSigningKey)');
      return importOnce(signing);
    },
    async signingKeyById(kid) {
      const known = (await current()).find((key) => key.kid === kid) ?? (await read()).find((key) => key.kid === kid);
      return known === undefined ? null : importOnce(known);
    },
    async publishedKeys() {
      return keySchedule(await current(), options.clock.now().getTime(), retentionMs).published.map((key) => key.publicJwk);
    },
  };
};
