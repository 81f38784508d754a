import { personalDataOf } from '@pos-auth/domain';
import type pg from 'pg';
import { createIpDigester, loadServiceKeys, type ServiceKeys } from './crypto/service-keys.js';
import { createPostgresEventStore, type PostgresEventStore } from './postgres/event-store.js';
import { createPostgresSubjectKeys } from './postgres/personal-data.js';
import { posAuthProjections } from './postgres/projections.js';
import { createPostgresReadModels, type PostgresReadModels } from './postgres/read-models.js';

export interface PosAuthPersistence extends PostgresReadModels {
  readonly eventStore: PostgresEventStore;
  readonly serviceKeys: ServiceKeys;
}

/**
 * pos-auth's event store and read models on a migrated pool: its projections, the domain's
 * personal-data policy with per-person keys, and the service keys (created on first use).
 *
 * @example
 * const { eventStore, users, sessions, clients, serviceKeys } = await createPosAuthPersistence(pool);
 */
export const createPosAuthPersistence = async (
  pool: pg.Pool,
  options: {
    /** False only to measure what sealing costs (see `PersonalDataCodec.seal`). */
    readonly sealPersonalData?: boolean;
  } = {},
): Promise<PosAuthPersistence> => {
  const serviceKeys = await loadServiceKeys(pool);
  const eventStore = createPostgresEventStore(pool, {
    projections: posAuthProjections,
    personalData: {
      personalDataOf,
      ipDigest: createIpDigester(serviceKeys.ipHmac),
      keys: createPostgresSubjectKeys(pool),
      seal: options.sealPersonalData ?? true,
    },
  });
  return { eventStore, serviceKeys, ...createPostgresReadModels(pool) };
};
