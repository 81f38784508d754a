import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/**
 * The keys that sign JWT access tokens: Ed25519 (JWS `EdDSA`), whose signatures are deterministic
 * (RFC 8032), so the same claims signed again give the same token, which a replay inside the
 * refresh grace window needs.
 */
export const signingAlgorithm = 'EdDSA';

/** A key as stored or configured: its public and private JWK, and when it starts signing. */
export interface StoredSigningKey {
  readonly kid: string;
  /** The public JWK as published: `kty`, `crv`, `x`, `kid`, `alg`, `use`. */
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
  /** When it starts signing; it is published from when it is stored. */
  readonly notBefore: Date;
}

/** A key ready to sign with. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

/** Where the signer finds its keys and the JWKS endpoint what it publishes. */
export interface SigningKeys {
  /** The key that signs now. */
  signingKey(): Promise<SigningKey>;
  /** The key `kid`, whether it signs now or not; null when it is not kept. */
  signingKeyById(kid: string): Promise<SigningKey | null>;
  /** The public JWKs resource servers need now: keys about to sign, the one that signs, and the ones that signed within an access-token lifetime. */
  publishedKeys(): Promise<readonly JWK[]>;
}

/**
 * How keys move, in seconds: each instance reads the key set again every `refreshInterval`, so a
 * rotation reaches every instance within that; `/.well-known/jwks.json` may be cached for
 * `jwksMaxAge`; instances' clocks may differ by up to `clockSkew`. A rotation publishes its key
 * `defaultActivationDelaySeconds` before it signs, so that every instance and every cache knows
 * it by then.
 */
export const signingKeyTimings = { refreshIntervalSeconds: 10, jwksMaxAgeSeconds: 300, clockSkewSeconds: 60 } as const;

export const defaultActivationDelaySeconds =
  signingKeyTimings.jwksMaxAgeSeconds + signingKeyTimings.refreshIntervalSeconds + signingKeyTimings.clockSkewSeconds;

/**
 * How long a key stays published after the next key started signing: tokens it signed live up to
 * an access-token lifetime, and an instance that had not yet read the rotation may have signed
 * with it for up to a refresh interval more, on a clock up to the skew apart.
 */
export const retentionSeconds = (accessTokenTtlSeconds: number): number =>
  accessTokenTtlSeconds + signingKeyTimings.refreshIntervalSeconds + signingKeyTimings.clockSkewSeconds;

/**
 * Which key signs at `now` and which are published, from the key set alone: the latest key whose
 * `notBefore` has come signs (the earliest key when none has, so that a clock a little behind the
 * one that created the first key still signs); a key is published until `retention` after the key
 * that superseded it started signing.
 *
 * @example
 * const { signing, published } = keySchedule(keys, Date.now(), retentionSeconds(300) * 1000);
 */
export const keySchedule = <K extends Pick<StoredSigningKey, 'kid' | 'notBefore'>>(
  keys: readonly K[],
  now: number,
  retentionMs: number,
): { readonly signing: K | null; readonly published: readonly K[] } => {
  const ordered = [...keys].sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime() || a.kid.localeCompare(b.kid));
  const begun = ordered.filter((key) => key.notBefore.getTime() <= now);
  const published = ordered.filter((key, index) => {
    const successor = ordered[index + 1];
    const supersededAt = successor !== undefined && successor.notBefore.getTime() <= now ? successor.notBefore.getTime() : null;
    return supersededAt === null || now < supersededAt + retentionMs;
  });
  return { signing: begun.at(-1) ?? ordered[0] ?? null, published };
};

const publicJwkOf = (x: string, kid: string): JWK => ({ kty: 'OKP', crv: 'Ed25519', x, kid, alg: signingAlgorithm, use: 'sig' });
const privateJwkOf = (x: string, d: string, kid?: string): JWK => ({ kty: 'OKP', crv: 'Ed25519', x, d, ...(kid === undefined ? {} : { kid }) });

/**
 * A new Ed25519 key pair as JWKs, named by its RFC 7638 thumbprint, from the platform's CSPRNG.
 *
 * @example
 * const { kid, publicJwk, privateJwk } = await generateSigningKey();
 */
export const generateSigningKey = async (): Promise<Omit<StoredSigningKey, 'notBefore'>> => {
  const { privateKey } = await generateKeyPair(signingAlgorithm, { crv: 'Ed25519', extractable: true });
  const { x, d } = await exportJWK(privateKey);
  if (x === undefined || d === undefined) throw new Error('generateSigningKey: the platform exported an incomplete Ed25519 key');
  const kid = await calculateJwkThumbprint(privateJwkOf(x, d));
  return { kid, publicJwk: publicJwkOf(x, kid), privateJwk: privateJwkOf(x, d, kid) };
};

/** Imports a private JWK to sign with; not extractable, so it never leaves this process again. */
export const importSigningKey = async (kid: string, privateJwk: JWK): Promise<SigningKey> => ({
  kid,
  privateKey: (await importJWK({ ...privateJwk, alg: signingAlgorithm }, signingAlgorithm, { extractable: false })) as CryptoKey,
});

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Reads `ACCESS_TOKEN_SIGNING_KEYS`: a JWK Set (`{"keys": [...]}`) of private Ed25519 keys
 * (`kty` OKP, `crv` Ed25519, `x`, `d`, optional `kid`: the RFC 7638 thumbprint by default). The
 * first key signs; every key is published. A refusal names the key by position and never quotes
 * it.
 *
 * @example
 * const keys = await parseSigningKeySet(process.env.ACCESS_TOKEN_SIGNING_KEYS!);
 */
export const parseSigningKeySet = async (json: string): Promise<Omit<StoredSigningKey, 'notBefore'>[]> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new TypeError('is not JSON: give a JWK Set, {"keys": [...]}');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('must be a JWK Set with at least one key, {"keys": [...]}');
  const read = await Promise.all(
    keys.map(async (value: unknown, index) => {
      const jwk = (value ?? {}) as Record<string, unknown>;
      const { kty, crv, x, d, kid } = jwk;
      if (kty !== 'OKP' || crv !== 'Ed25519' || !isString(x) || !isString(d) || (kid !== undefined && !isString(kid))) {
        throw new TypeError(`key ${index + 1} is not a private Ed25519 JWK (kty "OKP", crv "Ed25519", x, d)`);
      }
      const name = kid ?? (await calculateJwkThumbprint(privateJwkOf(x, d)));
      try {
        await importSigningKey(name, privateJwkOf(x, d));
      } catch {
        throw new TypeError(`key ${index + 1} is not a valid Ed25519 private key`);
      }
      return { kid: name, publicJwk: publicJwkOf(x, name), privateJwk: privateJwkOf(x, d, name) };
    }),
  );
  if (new Set(read.map((key) => key.kid)).size !== read.length) throw new TypeError('two keys have the same kid');
  return read;
};

/**
 * Keys given by configuration (`ACCESS_TOKEN_SIGNING_KEYS`, read by `parseSigningKeySet`): the
 * first signs, all are published, nothing is stored. Rotation is the deployment's: add the new
 * key at the end and deploy everywhere, then move it first, then remove the old one once an
 * access-token lifetime has passed.
 *
 * @example
 * const keys = createConfiguredSigningKeys(await parseSigningKeySet(config.signingKeys));
 */
export const createConfiguredSigningKeys = (keys: readonly Omit<StoredSigningKey, 'notBefore'>[]): SigningKeys => {
  const first = keys[0];
  if (first === undefined) throw new TypeError('createConfiguredSigningKeys: at least one key is needed');
  const imported = new Map(keys.map((key) => [key.kid, importSigningKey(key.kid, key.privateJwk)]));
  return {
    signingKey: () => imported.get(first.kid)!,
    signingKeyById: async (kid) => (await imported.get(kid)) ?? null,
    publishedKeys: async () => keys.map((key) => key.publicJwk),
  };
};
