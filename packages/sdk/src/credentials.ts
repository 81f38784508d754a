/** A client registered with pos-auth (`AUTH_CLIENTS`). */
export interface PosAuthClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 asks of client credentials. */
const formEncode = (value: string): string => encodeURIComponent(value).replaceAll('%20', '+');

/**
 * `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`. `btoa` is safe here: the
 * encoded text is ASCII whatever the credentials' script.
 */
export const basicAuthorization = (client: PosAuthClientCredentials): string =>
  `Basic ${btoa(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`)}`;
