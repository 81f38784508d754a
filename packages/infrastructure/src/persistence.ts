import { personalDataOf, type AuditLog, type LoginActivityReadModel } from '@pos-auth/domain';
import type pg from 'pg';
import { createIpDigester, loadServiceKeys, type ServiceKeys } from './crypto/service-keys.js';
import { createPostgresAuditLog } from './postgres/audit-log.js';
import { createPostgresEventStore, type PostgresEventStore } from './postgres/event-store.js';
import { invalidationKeysOf, type InvalidationListener } from './postgres/invalidation.js';
import { createPostgresLoginActivity, loginActivityConsumer } from './postgres/login-activity.js';
import { createPostgresSubjectKeys, type PersonalDataCodec } from './postgres/personal-data.js';
import { posAuthProjections } from './postgres/projections.js';
import { createPostgresReadModels, type PostgresReadModels } from './postgres/read-models.js';
import { logChannel, type LogConsumer } from './postgres/subscription.js';
import { cacheTokenChecks } from './postgres/token-cache.js';

/** The catch-up consumers pos-auth runs over its log (see `startSubscription`). */
export const posAuthConsumers: readonly LogConsumer[] = [loginActivityConsumer];

export interface PosAuthPersistence extends PostgresReadModels {
  readonly eventStore: PostgresEventStore;
  readonly auditLog: AuditLog;
  readonly loginActivity: LoginActivityReadModel;
  readonly serviceKeys: ServiceKeys;
}

/**
 * pos-auth's event store and read models on a migrated pool: its projections, the domain's
 * personal-data policy with per-person keys, the audit queries, the read models its consumers
 * keep (run them with `startSubscription`), and the service keys (created on first use).
 *
 * @example
 * const { eventStore, auditLog, users, sessions, clients, serviceKeys } = await createPosAuthPersistence(pool);
 */
export const createPosAuthPersistence = async (
  pool: pg.Pool,
  options: {
    /** False only to measure what sealing costs (see `PersonalDataCodec.seal`). */
    readonly sealPersonalData?: boolean;
    /**
     * A service's listener: token checks answer from a cache it keeps current (`cacheTokenChecks`),
     * and an append that changes what they answer resolves once it has been told. Without one (a
     * CLI, a test), appends still announce their changes to the services listening.
     */
    readonly invalidationListener?: InvalidationListener;
  } = {},
): Promise<PosAuthPersistence> => {
  const serviceKeys = await loadServiceKeys(pool);
  const personalData: PersonalDataCodec = {
    personalDataOf,
    ipDigest: createIpDigester(serviceKeys.ipHmac),
    keys: createPostgresSubjectKeys(pool),
    seal: options.sealPersonalData ?? true,
  };
  const eventStore = createPostgresEventStore(pool, {
    projections: posAuthProjections,
    personalData,
    notify: { channel: logChannel, types: new Set(posAuthConsumers.flatMap((consumer) => consumer.wakeOn)) },
    invalidation: { keysOf: invalidationKeysOf, listener: () => listener ?? null },
  });
  const { invalidationListener: listener } = options;
  const readModels = createPostgresReadModels(pool);
  return {
    eventStore,
    auditLog: createPostgresAuditLog(pool, personalData),
    loginActivity: createPostgresLoginActivity(pool),
    serviceKeys,
    ...readModels,
    ...(listener === undefined ? {} : cacheTokenChecks(readModels, listener)),
  };
};
