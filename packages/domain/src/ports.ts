import type { DomainEvent, EventMetadata, RecordedEvent } from './shared/event.js';
import type { ClientId, SessionId, TokenDigest, UserId } from './shared/ids.js';
import type { Role } from './user/role.js';

/**
 * What an append expects of the stream: exactly `n` events so far, no stream at all, or anything.
 * A mismatch is a `WrongExpectedVersionError`, never an overwrite.
 */
export type ExpectedVersion = number | 'no_stream' | 'any';

/**
 * A unique value held across streams (user names, emails). Written in the append's transaction;
 * a value already held makes the whole append fail with `ClaimTakenError`.
 */
export interface Claim {
  readonly kind: 'user_name' | 'email' | 'bootstrap_admin';
  readonly value: string;
}

/** Secrets written beside the events, in the same transaction, but never into the log. */
export type CredentialWrite =
  | { readonly kind: 'password'; readonly userId: UserId; readonly hash: string }
  | { readonly kind: 'client_secret'; readonly clientId: ClientId; readonly digest: TokenDigest };

export interface AppendOptions {
  readonly expectedVersion: ExpectedVersion;
  readonly metadata: EventMetadata;
  readonly claims?: readonly Claim[];
  readonly credentials?: readonly CredentialWrite[];
}

export interface EventStore {
  /** The stream's events in order, and its version (the number of events; 0 when absent). */
  readStream<E extends DomainEvent>(
    streamId: string,
  ): Promise<{ readonly version: number; readonly events: readonly RecordedEvent<E>[] }>;
  /** Appends atomically with claims, credentials and inline projections; returns the new version. */
  appendToStream(
    streamId: string,
    events: readonly DomainEvent[],
    options: AppendOptions,
  ): Promise<{ readonly nextExpectedVersion: number }>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * A hash of a random password with the same parameters as real ones: verifying against it
   * costs what a real verify costs, so an unknown user name is not told apart by timing.
   */
  readonly dummyHash: string;
}

/**
 * A dictionary of passwords that attackers try first (leaked, frequent, predictable): NIST SP
 * 800-63B-4 §3.1.1.2 refuses them whatever their length.
 */
export interface CommonPasswords {
  /** True when the password is on the list, compared case-insensitively after NFKC. */
  isCommon(password: string): boolean;
}

export interface TokenGenerator {
  /** A random UUID (v4): the seed's access token. */
  accessToken(): string;
  /** An opaque token of at least 256 random bits. */
  refreshToken(): string;
}

export interface SecretDigester {
  /** SHA-256, hex: the only form in which tokens and client secrets are stored. */
  digest(secret: string): TokenDigest;
  /** Compares a secret to a stored digest in constant time. */
  matches(secret: string, digest: TokenDigest): boolean;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

/** The user resource, as the API shows it. */
export interface UserView {
  readonly id: UserId;
  readonly userName: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly role: Role;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface UserCredentials {
  readonly userId: UserId;
  readonly passwordHash: string;
}

/** Reads kept current in the append transaction, so a write is visible to the next request. */
export interface UserReadModel {
  findCredentialsByUserName(userNameKey: string): Promise<UserCredentials | null>;
  getUser(userId: UserId): Promise<UserView | null>;
  hasAnyUser(): Promise<boolean>;
}

export interface AccessTokenView {
  readonly userId: UserId;
  readonly role: Role;
  readonly sessionId: SessionId;
  readonly clientId: ClientId;
  readonly expiresAt: Date;
}

export interface SessionReadModel {
  /** The session a refresh token was ever issued for, current or rotated away. */
  findSessionIdByRefreshTokenDigest(digest: TokenDigest): Promise<SessionId | null>;
  findAccessToken(digest: TokenDigest): Promise<AccessTokenView | null>;
}

export interface ClientReadModel {
  findClientSecretDigest(clientId: ClientId): Promise<TokenDigest | null>;
}
