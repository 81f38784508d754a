declare const brand: unique symbol;

/** A nominal type: a `string` that only the named constructor may produce. */
export type Brand<T, Name extends string> = T & { readonly [brand]: Name };

export type UserId = Brand<string, 'UserId'>;
export type SessionId = Brand<string, 'SessionId'>;
export type ClientId = Brand<string, 'ClientId'>;
/** Hex SHA-256 digest of a secret token; the only form in which tokens are stored. */
export type TokenDigest = Brand<string, 'TokenDigest'>;
/**
 * Keyed hash (HMAC) of a normalized user name: how the log names what was typed at a failed
 * login without storing it (people type passwords into the user-name field).
 */
export type UserNameDigest = Brand<string, 'UserNameDigest'>;

export const UserId = (value: string): UserId => value as UserId;
export const SessionId = (value: string): SessionId => value as SessionId;
export const ClientId = (value: string): ClientId => value as ClientId;
export const TokenDigest = (value: string): TokenDigest => value as TokenDigest;
export const UserNameDigest = (value: string): UserNameDigest => value as UserNameDigest;

export const userStreamId = (id: UserId): string => `user-${id}`;
export const sessionStreamId = (id: SessionId): string => `session-${id}`;
export const clientStreamId = (id: ClientId): string => `client-${id}`;
/**
 * One stream per typed user name (by its keyed hash), whether an account has that name or not:
 * failed logins and back-off windows for a name serialize on it, and a flood over many names
 * spreads over many streams instead of one hot row.
 */
export const loginAttemptsStreamId = (name: UserNameDigest): string => `login-attempts-${name}`;
/** The set of active admins: every change to it goes through this one stream's version. */
export const adminRosterStreamId = 'admin-roster';
