import type { Request } from 'express';
import { InvalidClientError, type ClientCredentialsInput } from '@pos-auth/domain';

export type Authorization =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'basic'; readonly credentials: ClientCredentialsInput }
  | { readonly scheme: 'bearer'; readonly token: string }
  | { readonly scheme: 'other' };

/** application/x-www-form-urlencoded decoding: `+` is a space, then percent-decoding. */
const formDecode = (value: string): string => decodeURIComponent(value.replaceAll('+', ' '));

/**
 * Reads `Authorization`. Basic credentials are `base64(urlencode(id) ":" urlencode(secret))`
 * (RFC 6749 §2.3.1); a malformed Basic header is a failed client authentication.
 */
export const readAuthorization = (req: Request): Authorization => {
  const header = req.get('authorization');
  if (header === undefined || header.trim() === '') return { scheme: 'none' };
  const match = /^(\S+)\s+(\S+)\s*$/u.exec(header.trim());
  const scheme = match?.[1]?.toLowerCase();
  const value = match?.[2] ?? '';
  if (scheme === 'bearer') return { scheme: 'bearer', token: value };
  if (scheme !== 'basic') return { scheme: 'other' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClientError();
  try {
    return {
      scheme: 'basic',
      credentials: { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) },
    };
  } catch {
    throw new InvalidClientError();
  }
};
