declare const brand: unique symbol;

/** A nominal type: a `string` that only the named constructor may produce. */
export type Brand<T, Name extends string> = T & { readonly [brand]: Name };

export type UserId = Brand<string, 'UserId'>;
export type SessionId = Brand<string, 'SessionId'>;
export type ClientId = Brand<string, 'ClientId'>;
/** Hex SHA-256 digest of a secret token; the only form in which tokens are stored. */
export type TokenDigest = Brand<string, 'TokenDigest'>;

export const UserId = (value: string): UserId => value as UserId;
export const SessionId = (value: string): SessionId => value as SessionId;
export const ClientId = (value: string): ClientId => value as ClientId;
export const TokenDigest = (value: string): TokenDigest => value as TokenDigest;

export const userStreamId = (id: UserId): string => `user-${id}`;
export const sessionStreamId = (id: SessionId): string => `session-${id}`;
export const clientStreamId = (id: ClientId): string => `client-${id}`;
/**
 * Failed logins for user names that belong to nobody have no user stream to go to; they share
 * this one so that auditors (and a later lockout) still see them.
 */
export const unknownUserLoginsStreamId = 'login-failures-unknown-user';
