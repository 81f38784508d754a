import { createHmac, randomBytes } from 'node:crypto';
import { UserNameDigest, type Pseudonymizer } from '@pos-auth/domain';
import type pg from 'pg';

/** The server secrets pos-auth keeps outside the log (`service_keys`), each 256 bits. */
export interface ServiceKeys {
  /** Derives a refresh's child tokens from its parent (see `createTokenGenerator`). */
  readonly tokenDerivation: Buffer;
  /** Keys the hash of a typed user name at a failed login. */
  readonly userNameHmac: Buffer;
  /** Keys the hash of an IP address that audit queries by IP match. */
  readonly ipHmac: Buffer;
}

const names = { tokenDerivation: 'token-derivation', userNameHmac: 'user-name-hmac', ipHmac: 'ip-hmac' } as const;

/**
 * Reads the service keys, generating the missing ones on first start. Several instances starting at
 * once agree: each inserts only if absent, then all read what won.
 *
 * @example
 * const keys = await loadServiceKeys(pool);
 */
export const loadServiceKeys = async (pool: pg.Pool): Promise<ServiceKeys> => {
  const wanted = Object.values(names);
  await pool.query(
    `INSERT INTO service_keys (name, key) SELECT n, k FROM unnest($1::text[], $2::bytea[]) AS t(n, k)
     ON CONFLICT (name) DO NOTHING`,
    [wanted, wanted.map(() => randomBytes(32))],
  );
  const { rows } = await pool.query<{ name: string; key: Buffer }>('SELECT name, key FROM service_keys WHERE name = ANY($1::text[])', [wanted]);
  const byName = new Map(rows.map((row) => [row.name, row.key]));
  const key = (name: string) => {
    const found = byName.get(name);
    if (found === undefined) throw new Error(`The service key ${name} is missing after it was created`);
    return found;
  };
  return { tokenDerivation: key(names.tokenDerivation), userNameHmac: key(names.userNameHmac), ipHmac: key(names.ipHmac) };
};

const hmacHex = (key: Buffer, value: string) => createHmac('sha256', key).update(value, 'utf8').digest('hex');

/**
 * Keyed hashes (HMAC-SHA256, hex) for what must be matchable but not readable. Without the key a
 * hash of a short string cannot be reversed by trying candidates.
 *
 * @example
 * const pseudonymizer = createHmacPseudonymizer(keys.userNameHmac);
 * pseudonymizer.userName('alice'); // '5e3b...' (64 hex digits)
 */
export const createHmacPseudonymizer = (key: Buffer): Pseudonymizer => ({
  userName: (userNameKey) => UserNameDigest(hmacHex(key, userNameKey)),
});

/** A keyed hash of an IP address, for the audit filter by IP. */
export const createIpDigester = (key: Buffer) => (ip: string): string => hmacHex(key, ip);
