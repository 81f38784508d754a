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
  | {
      readonly kind: 'client_secret';
      readonly clientId: ClientId;
      readonly digest: TokenDigest;
      /** The secret this one replaces, and until when it still works (a rotation's overlap). */
      readonly previous?: { readonly digest: TokenDigest; readonly validUntil: string } | undefined;
    };

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

/**
 * A dictionary of passwords that attackers try first (leaked, frequent, predictable): NIST SP
 * 800-63B-4 §3.1.1.2 refuses them whatever their length.
 */
export interface CommonPasswords {
  /** True when the password is on the list, compared case-insensitively after NFKC. */
  isCommon(password: string): boolean;
}

export interface RawTokens {
  /** A UUID (v4 layout): the seed's opaque access token, and a JWT access token's `jti`. */
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

/**
 * What an access token says: the claims of a JWT access token (RFC 9068), of which an opaque
 * token is only the id. Instants are ISO 8601.
 */
export interface AccessTokenClaims {
  /** The token's id (`jti`): the random UUID of a login, or the one derived from a refresh's parent. */
  readonly tokenId: string;
  readonly userId: UserId;
  readonly sessionId: SessionId;
  readonly clientId: ClientId;
  readonly role: Role;
  readonly scope: string | null;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

/**
 * Signs JWT access tokens. Deterministic: the same claims signed with the same key give the same
 * token, byte for byte, which is what lets a replay inside the grace window answer with the very
 * token of the first answer while only its digest is stored.
 */
export interface AccessTokenSigner {
  /** Signs with the key that signs now, and names it. */
  sign(claims: AccessTokenClaims): Promise<{ readonly token: string; readonly keyId: string }>;
  /** Signs with the key `keyId`, active or not; null when no such key is kept any more. */
  signWith(keyId: string, claims: AccessTokenClaims): Promise<string | null>;
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

/**
 * Runs the work given for one key one piece at a time, in the order it came, within this process:
 * what a login for one user name reads, checks and writes is done before the next login for that
 * name starts reading.
 */
export interface KeyedLock {
  exclusive<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/** Waits before the `attempt`-th retry of a conflicting write (jittered, growing). */
export interface ConflictBackoff {
  wait(attempt: number): Promise<void>;
}

/** What became of a password login: one of three, whoever tried (never labelled by user). */
export type LoginOutcome = 'success' | 'wrong_credentials' | 'throttled';

/**
 * What became of a refresh: the token rotated, its parent replayed inside the grace window (the
 * same child again), a rotated token reused (the session ended), or refused for any other reason.
 */
export type RefreshOutcome = 'rotated' | 'replayed' | 'reuse_detected' | 'refused';

/**
 * Told the outcome of each login and refresh once it is settled (written, or refused), for the
 * operator's counters. Only the use case can tell a replay from a rotation, so it reports; the
 * adapter must return at once and never throw.
 */
export interface AuthObserver {
  loginAttempted(outcome: LoginOutcome): void;
  refreshAttempted(outcome: RefreshOutcome): void;
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
    readonly role: Role;
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
  /** The user the token was issued to, as they are now (the same read: `GET /users/me` needs no other). */
  readonly holder: UserView;
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
  /** When this refresh token expires, whether it is its session's current one or was rotated away. */
  readonly expiresAt: Date;
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

/** A client's secret digests: the current one, and during a rotation's overlap the one it replaced. */
export interface ClientSecrets {
  readonly current: TokenDigest;
  readonly previous: { readonly digest: TokenDigest; readonly validUntil: Date } | null;
}

export interface ClientView {
  readonly clientId: ClientId;
  readonly registeredAt: string;
  readonly secretRotatedAt: string | null;
}

export interface ClientReadModel {
  findClientSecrets(clientId: ClientId): Promise<ClientSecrets | null>;
  listClients(): Promise<ClientView[]>;
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
