import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@pos-auth/domain';
import { ensureProjectionsCurrent } from '@pos-auth/infrastructure';
import { authDepsOptionsFrom, createAuthDeps, type Runtime } from '../composition.js';
import { withDatabase } from './database.js';
import { progressBar, rebuildProgressLabels } from './progress.js';

/**
 * The request an operator's command is recorded as: one id per run, in the metadata of every event
 * it appends, so that `pos-auth audit events --request <id>` finds everything one command did.
 */
export const operatorContext = (): RequestContext => ({ requestId: `cli-${randomUUID()}` });

/**
 * Runs an operator's command on the use cases' ports, built as the service builds them (the same
 * configuration, hasher, dictionary and settings) on the migrated database, with the projections
 * brought up to date first as `start` does (a progress bar on a terminal while they are rebuilt).
 *
 * @example
 * await withOperatorDeps(async (deps) => console.log(await listClients(deps)));
 */
export const withOperatorDeps = <T>(work: (deps: Runtime) => Promise<T>): Promise<T> =>
  withDatabase(async ({ pool }, config) => {
    const deps = await createAuthDeps(pool, await authDepsOptionsFrom(config));
    const progress = progressBar();
    await ensureProjectionsCurrent(pool, deps.eventStore, {
      onProgress: (phase, done, total) => progress.update(rebuildProgressLabels[phase], done, total),
    }).finally(() => progress.stop());
    return work(deps);
  });
