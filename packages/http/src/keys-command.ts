import { retentionSeconds, rotateSigningKey } from '@pos-auth/infrastructure';
import type pg from 'pg';
import { ConfigError, type Config } from './config.js';

export interface RotateKeysOptions {
  /** Seconds until the new key signs (default: long enough for every instance and JWKS cache to learn it first). */
  readonly activateInSeconds?: number | undefined;
  readonly now?: Date;
}

/**
 * `pos-auth keys rotate [--activate-in <seconds>]`: makes a new signing key for JWT access tokens
 * in the database, published at once and signing from `--activate-in` seconds on; the key it
 * replaces keeps signing until then and stays published for an access-token lifetime after.
 * Returns what to print: key ids and instants, never a key. Keys given by configuration
 * (`ACCESS_TOKEN_SIGNING_KEYS`) are rotated by changing it instead.
 *
 * @example
 * console.log(await rotateKeysCommand(pool, loadConfig(), { activateInSeconds: 0 }));
 */
export const rotateKeysCommand = async (pool: pg.Pool, config: Config, options: RotateKeysOptions = {}): Promise<string> => {
  if (config.accessTokenSigningKeys !== null) {
    throw new ConfigError('The signing keys come from ACCESS_TOKEN_SIGNING_KEYS: rotate them there (see the README), not in the database.');
  }
  const now = options.now ?? new Date();
  const rotation = await rotateSigningKey(pool, { now, ...(options.activateInSeconds === undefined ? {} : { activateInSeconds: options.activateInSeconds }) });
  const seconds = Math.round((rotation.signsFrom.getTime() - now.getTime()) / 1000);
  const lines = [`Signing key ${rotation.kid} is published now and signs from ${rotation.signsFrom.toISOString()} (in ${seconds} s).`];
  if (rotation.previousKid !== null) {
    const publishedUntil = new Date(rotation.signsFrom.getTime() + retentionSeconds(config.accessTokenTtlSeconds) * 1000);
    lines.push(`Key ${rotation.previousKid} signs until then and stays published until ${publishedUntil.toISOString()}.`);
  }
  return lines.join('\n');
};

/** Reads `--activate-in`: whole seconds from 0. */
export const parseActivateIn = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/u.test(value)) throw new ConfigError('--activate-in must be a whole number of seconds');
  return Number(value);
};
