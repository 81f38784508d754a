import { WrongExpectedVersionError } from '../shared/errors.js';
import type { EventMetadata } from '../shared/event.js';
import type { ClientId, SessionId, UserId } from '../shared/ids.js';
import type {
  Clock,
  ClientReadModel,
  CommonPasswords,
  EventStore,
  IdGenerator,
  PasswordHasher,
  SecretDigester,
  SessionReadModel,
  TokenGenerator,
  UserReadModel,
} from '../ports.js';
import type { Role } from '../user/role.js';

export interface TokenSettings {
  /** Access-token lifetime, whole seconds from 1. */
  readonly accessTokenTtlSeconds: number;
  /** Refresh-token lifetime, whole seconds; each rotation starts a new one. */
  readonly refreshTokenTtlSeconds: number;
}

export const defaultTokenSettings: TokenSettings = {
  accessTokenTtlSeconds: 1800,
  refreshTokenTtlSeconds: 14 * 24 * 60 * 60,
};

/** Everything the use cases need from the outside world, as ports. */
export interface AuthDeps {
  readonly eventStore: EventStore;
  readonly users: UserReadModel;
  readonly sessions: SessionReadModel;
  readonly clients: ClientReadModel;
  readonly passwordHasher: PasswordHasher;
  readonly commonPasswords: CommonPasswords;
  readonly tokens: TokenGenerator;
  readonly digester: SecretDigester;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly settings: TokenSettings;
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

/** Optimistic concurrency: run again (reload, decide again) when another writer got there first. */
export const retryOnConflict = async <T>(attempt: () => Promise<T>, attempts = 5): Promise<T> => {
  for (let remaining = attempts; ; remaining -= 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || remaining <= 1) throw error;
    }
  }
};
