import { WrongExpectedVersionError } from '../shared/errors.js';
import type { EventMetadata } from '../shared/event.js';
import { ClientId, SessionId, UserId } from '../shared/ids.js';
import type { BackoffPolicy } from '../login/login-attempts.js';
import { defaultBackoffPolicy } from '../login/login-attempts.js';
import type {
  AccessTokenSigner,
  AuditLog,
  AuthObserver,
  Clock,
  ClientReadModel,
  CommonPasswords,
  ConflictBackoff,
  EventStore,
  IdGenerator,
  KeyedLock,
  LoginActivityReadModel,
  PasswordHasher,
  Pseudonymizer,
  SecretDigester,
  SessionReadModel,
  TokenGenerator,
  UserReadModel,
} from '../ports.js';
import type { Role } from '../user/role.js';

/** `opaque`: the seed's UUIDs, checked against the service; `jwt`: signed JWTs that resource servers verify themselves. */
export type AccessTokenFormat = 'opaque' | 'jwt';

export interface TokenSettings {
  readonly accessTokenFormat: AccessTokenFormat;
  /** Access-token lifetime, whole seconds from 1. */
  readonly accessTokenTtlSeconds: number;
  /** Refresh-token lifetime (idle limit), whole seconds; each rotation starts a new one. */
  readonly refreshTokenTtlSeconds: number;
  /** Absolute session lifetime from the login, whatever its refreshes. */
  readonly sessionMaxAgeSeconds: number;
  /** How long after a rotation the parent may be replayed for the same child (0: never). */
  readonly refreshReuseGraceSeconds: number;
}

export const defaultTokenSettings: TokenSettings = {
  accessTokenFormat: 'opaque',
  accessTokenTtlSeconds: 1800,
  refreshTokenTtlSeconds: 14 * 24 * 60 * 60,
  sessionMaxAgeSeconds: 30 * 24 * 60 * 60,
  refreshReuseGraceSeconds: 10,
};

export interface Settings extends TokenSettings {
  readonly login: BackoffPolicy;
}

export const defaultSettings: Settings = { ...defaultTokenSettings, login: defaultBackoffPolicy };

/** Everything the use cases need from the outside world, as ports. */
export interface AuthDeps {
  readonly eventStore: EventStore;
  readonly users: UserReadModel;
  readonly sessions: SessionReadModel;
  readonly clients: ClientReadModel;
  readonly auditLog: AuditLog;
  readonly loginActivity: LoginActivityReadModel;
  readonly passwordHasher: PasswordHasher;
  readonly commonPasswords: CommonPasswords;
  readonly tokens: TokenGenerator;
  /** Used when `settings.accessTokenFormat` is `jwt`, and to replay a JWT recorded in any mode. */
  readonly accessTokenSigner: AccessTokenSigner;
  readonly digester: SecretDigester;
  readonly pseudonymizer: Pseudonymizer;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly backoff: ConflictBackoff;
  /** One password login per user name at a time (per process): see `issueTokenWithPassword`. */
  readonly loginLock: KeyedLock;
  readonly settings: Settings;
  readonly observer: AuthObserver;
}

/** Where a request came from; the transports build it, the use cases copy it into metadata. */
export interface RequestContext {
  readonly requestId: string;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
}

/** The holder of a valid access token. */
export interface Principal {
  readonly userId: UserId;
  readonly role: Role;
  readonly sessionId: SessionId;
  readonly clientId: ClientId;
}

/**
 * The operator, acting from the command line with the database's own credentials: trusted as an
 * admin (the rules that protect the system, such as the last active admin, still hold) and
 * recorded as `operator` (client `pos-auth-cli`) in the metadata of what it does.
 */
export const operatorPrincipal: Principal = {
  userId: UserId('operator'),
  role: 'admin',
  sessionId: SessionId('operator'),
  clientId: ClientId('pos-auth-cli'),
};

export const metadataFor = (
  context: RequestContext,
  occurredAt: Date,
  who: { readonly clientId?: string | undefined; readonly actorUserId?: string | undefined } = {},
): EventMetadata => ({
  requestId: context.requestId,
  occurredAt: occurredAt.toISOString(),
  clientId: who.clientId,
  actorUserId: who.actorUserId,
  ip: context.ip,
  userAgent: context.userAgent,
});

/** Attempts of a write that conflicts with concurrent writers before the conflict is reported. */
export const conflictAttempts = 8;

/**
 * Optimistic concurrency: run again (reload, decide again) when another writer got there first,
 * after a jittered wait so that the losers of a race do not collide again in lockstep.
 */
export const retryOnConflict = async <T>(
  deps: Pick<AuthDeps, 'backoff'>,
  attempt: (retry: number) => Promise<T>,
  attempts = conflictAttempts,
): Promise<T> => {
  for (let retry = 0; ; retry += 1) {
    try {
      return await attempt(retry);
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || retry + 1 >= attempts) throw error;
      await deps.backoff.wait(retry + 1);
    }
  }
};
