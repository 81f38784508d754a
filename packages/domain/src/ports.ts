import type { DomainEvent, EventMetadata, RecordedEvent } from './shared/event.js';
import type { ClientId, SessionId, TokenDigest, UserId, UserNameDigest } from './shared/ids.js';
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
  readonly kind: 'user_name' | 'email';
  readonly value: string;
}

/** Secrets written beside the events, in the same transaction, but never into the log. */
export type CredentialWrite =
  | { readonly kind: 'password'; readonly userId: UserId; readonly hash: string }
  | { readonly kind: 'client_secret'; readonly clientId: ClientId; readonly digest: TokenDigest };

/**
 * An aggregate's state as of a stream version, kept beside the stream so that the next decision
 * reads one row instead of the whole stream. `schema` is the decider's `stateSchema`.
 */
export interface Snapshot {
  readonly schema: number;
  readonly version: number;
  readonly state: unknown;
}

/** A stream's version and its latest snapshot (null when it has none). Version 0: no stream. */
export interface StreamHead {
  readonly version: number;
  readonly snapshot: Snapshot | null;
}

/** The part of an atomic append that goes to one stream. */
export interface StreamWrite {
  readonly streamId: string;
  readonly events: readonly DomainEvent[];
  readonly expectedVersion: ExpectedVersion;
  /** The state after these events, with its schema: stored as the stream's snapshot. */
  readonly snapshot?: { readonly schema: number; readonly state: unknown };
  /** Claim kinds this stream gives up before taking `claims` (an email change, an erasure). */
  readonly releaseClaims?: readonly Claim['kind'][];
  readonly claims?: readonly Claim[];
}

export interface AppendOptions {
  readonly metadata: EventMetadata;
  readonly credentials?: readonly CredentialWrite[];
  /**
   * People erased by this append: their encryption keys are destroyed and their secrets dropped in
   * the same transaction, so their personal fields read as erased from then on.
   */
  readonly erase?: readonly UserId[];
}

export interface ReadStreamOptions {
  /** Only events from this stream position on (1 is the first). */
  readonly fromPosition?: number;
}

/**
 * The log. Every append is atomic over all its streams: the expected versions are checked, the
 * events written with their hash chain, the claims, credentials, snapshots and inline projections
 * written, or nothing is.
 */
export interface EventStore {
  /** The stream's events in order, and its version (the number of events; 0 when absent). */
  readStream<E extends DomainEvent>(
    streamId: string,
    options?: ReadStreamOptions,
  ): Promise<{ readonly version: number; readonly events: readonly RecordedEvent<E>[] }>;
  /** The stream's version and snapshot, in one read. */
  readHead(streamId: string): Promise<StreamHead>;
  /** Appends to one or more streams atomically; returns each stream's new version, in order. */
  append(writes: readonly StreamWrite[], options: AppendOptions): Promise<readonly number[]>;
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

export interface RawTokens {
  /** A UUID (v4 layout): the seed's access token. */
  readonly accessToken: string;
  /** An opaque token of at least 256 bits. */
  readonly refreshToken: string;
}

export interface TokenGenerator {
  /** A fresh random pair: a login. */
  newPair(): RawTokens;
  /**
   * The pair a refresh of `parentRefreshToken` issues, derived from it with a server-side key: the
   * same parent always gives the same child, which is how a replay inside the grace window answers
   * with the very tokens of the first answer while only their digests are stored.
   */
  childOf(parentRefreshToken: string): RawTokens;
}

export interface SecretDigester {
  /** SHA-256, hex: the only form in which tokens and client secrets are stored. */
  digest(secret: string): TokenDigest;
  /** Compares a secret to a stored digest in constant time. */
  matches(secret: string, digest: TokenDigest): boolean;
}

/** Keyed hashes of what must be matchable but not readable: a typed user name at a failed login. */
export interface Pseudonymizer {
  userName(userNameKey: string): UserNameDigest;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

/** Waits before the `attempt`-th retry of a conflicting write (jittered, growing). */
export interface ConflictBackoff {
  wait(attempt: number): Promise<void>;
}

/** The user resource, as the API shows it. */
export interface UserView {
  readonly id: UserId;
  readonly userName: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly role: Role;
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a password login needs, read in one query: the account (if the name has one) and the name's back-off state. */
export interface LoginCandidate {
  readonly account: {
    readonly userId: UserId;
    readonly passwordHash: string;
    readonly disabled: boolean;
  } | null;
  readonly attempts: StreamHead;
}

export interface UserListQuery {
  readonly limit: number;
  /** Opaque: the `nextCursor` of the previous page. */
  readonly cursor: string | null;
  readonly role?: Role | undefined;
  readonly disabled?: boolean | undefined;
  /** A user-name prefix, in the comparison form (`normalizeUserName(...).key`). */
  readonly userNamePrefix?: string | undefined;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** Reads kept current in the append transaction, so a write is visible to the next request. */
export interface UserReadModel {
  /** `userNameKey` null: the typed name cannot be anyone's; only the back-off state is read. */
  findLoginCandidate(userNameKey: string | null, attemptsStreamId: string): Promise<LoginCandidate>;
  findPasswordHash(userId: UserId): Promise<string | null>;
  getUser(userId: UserId): Promise<UserView | null>;
  hasAnyUser(): Promise<boolean>;
  /** For a database that predates the admin roster: who the admins are, from the users projection. */
  listActiveAdminIds(): Promise<UserId[]>;
  /** Ordered by user name; a cursor page never repeats or skips a user that existed throughout. */
  listUsers(query: UserListQuery): Promise<Page<UserView>>;
}

export interface AccessTokenView {
  readonly userId: UserId;
  readonly userName: string;
  readonly role: Role;
  readonly sessionId: SessionId;
  readonly clientId: ClientId;
  readonly scope: string | null;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** A refresh token ever issued (current or rotated away), with what a refresh or an introspection decides on. */
export interface RefreshTokenView {
  readonly sessionId: SessionId;
  /** The session stream's head: the refresh decision's state, in the same read. */
  readonly head: StreamHead;
  readonly userActive: boolean;
  readonly userName: string;
  readonly role: Role;
  readonly scope: string | null;
  /** When this refresh token was issued. */
  readonly issuedAt: Date;
}

export interface SessionView {
  readonly id: SessionId;
  readonly userId: UserId;
  readonly clientId: ClientId;
  readonly createdAt: string;
  readonly lastRefreshedAt: string | null;
  /** When it ends unless refreshed: the sooner of its refresh token's expiry and its absolute end. */
  readonly expiresAt: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface SessionReadModel {
  /**
   * The session a refresh token was ever issued for (current or rotated away), with its head and
   * whether its user may still use it: everything a refresh decides on, in one query.
   */
  findByRefreshTokenDigest(digest: TokenDigest): Promise<RefreshTokenView | null>;
  /** An access token of an active session of an active user; null for anything else. */
  findAccessToken(digest: TokenDigest): Promise<AccessTokenView | null>;
  /** The session an access or refresh token belongs to, whatever its state (for revocation). */
  findSessionByTokenDigest(digest: TokenDigest): Promise<{ readonly sessionId: SessionId; readonly clientId: ClientId } | null>;
  /** The user's sessions that are neither revoked nor past their end at `now`. */
  listActiveSessions(userId: UserId, now: Date): Promise<SessionView[]>;
}

export interface ClientReadModel {
  findClientSecretDigest(clientId: ClientId): Promise<TokenDigest | null>;
}

/**
 * What an audit query selects: every filter given must match. `userName` matches the events of the
 * account that has the name now and every failed login typed with it (its login-attempts stream),
 * whether or not an account has it.
 */
export interface AuditFilter {
  readonly userId?: UserId | undefined;
  readonly sessionId?: SessionId | undefined;
  readonly clientId?: string | undefined;
  readonly types?: readonly string[] | undefined;
  /**
   * Any of these IPs (one address in its written forms), matched through the keyed digest the log
   * keeps beside every IP, sealed, erased or not.
   */
  readonly ips?: readonly string[] | undefined;
  readonly requestId?: string | undefined;
  /** `recorded_at` from this instant on (inclusive). */
  readonly from?: Date | undefined;
  /** `recorded_at` before this instant (exclusive), so that consecutive ranges do not overlap. */
  readonly to?: Date | undefined;
  readonly userName?: { readonly key: string; readonly attemptsStreamId: string } | undefined;
}

/** An event as an auditor sees it: personal fields opened, or `erasedValue` once their owner was erased. */
export interface AuditEvent {
  /** The global position, as a string (it may exceed 2^53). */
  readonly position: string;
  readonly streamId: string;
  readonly type: string;
  /** ISO 8601 UTC. */
  readonly recordedAt: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: EventMetadata;
}

/**
 * The log, for auditors: in commit-safe order (the order `readAll` uses), and only below its
 * horizon, so that a walk from cursor to cursor never repeats or skips an event, whatever is
 * appended meanwhile. `nextCursor` follows the page's last event, even on a short page (what is
 * appended later comes after it); it is null only on an empty page, whose caller keeps the cursor
 * it sent to ask again later.
 */
export interface AuditLog {
  readEvents(filter: AuditFilter, page: { readonly after: string | null; readonly limit: number }): Promise<Page<AuditEvent>>;
}

/** A user's logins as the login-activity consumer keeps them (eventually consistent with the log). */
export interface LoginActivity {
  readonly userId: UserId;
  readonly lastLoginAt: string | null;
  readonly lastLoginClientId: string | null;
  /** Failed password logins since the last successful one. */
  readonly consecutiveFailures: number;
  readonly lastFailureAt: string | null;
  readonly lastFailureReason: string | null;
}

export interface LoginActivityQuery {
  readonly limit: number;
  /** Opaque: the `nextCursor` of the previous page. */
  readonly cursor: string | null;
  readonly userId?: UserId | undefined;
  /** Only users with at least this many consecutive failures. */
  readonly minConsecutiveFailures?: number | undefined;
}

export interface LoginActivityReadModel {
  /** Ordered by user id; a cursor page never repeats or skips a user. */
  listLoginActivity(query: LoginActivityQuery): Promise<Page<LoginActivity>>;
}
