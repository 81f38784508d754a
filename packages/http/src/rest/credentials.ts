import type { Request } from 'express';
import { secret, text } from '@pos-auth/contract';
import { InvalidClientError, type ClientCredentialsInput } from '@pos-auth/domain';

export type Authorization =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'basic'; readonly credentials: ClientCredentialsInput }
  | { readonly scheme: 'bearer'; readonly token: string }
  | { readonly scheme: 'other' };

/** application/x-www-form-urlencoded decoding: `+` is a space, then percent-decoding. */
const formDecode = (value: string): string => decodeURIComponent(value.replaceAll('+', ' '));

const clientIdRule = text();
const clientSecretRule = secret();

/**
 * Reads `Authorization`. Basic credentials are `base64(urlencode(id) ":" urlencode(secret))`
 * (RFC 6749 §2.3.1). A malformed Basic header is a failed client authentication (401
 * `invalid_client`), and so is one whose id or secret breaks the text rule (`@pos-auth/contract`): no
 * client can be registered under such an id, so the answer is the one any unknown client gets.
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
  if (colon < 0) throw new InvalidClientError('basic_credentials_without_colon');
  let credentials: ClientCredentialsInput;
  try {
    credentials = { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new InvalidClientError('basic_credentials_not_percent_decodable');
  }
  if (!clientIdRule.safeParse(credentials.clientId).success || !clientSecretRule.safeParse(credentials.clientSecret).success) {
    throw new InvalidClientError('basic_credentials_with_forbidden_characters');
  }
  return { scheme: 'basic', credentials };
};
