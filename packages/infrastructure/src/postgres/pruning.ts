import type { Clock } from '@pos-auth/domain';
import pg from 'pg';
import type { Projection, ProjectionTable } from './projection.js';

/** Rows one statement deletes at most: short transactions, short row locks. */
export const defaultPruneBatchSize = 1000;

/** How often a running service prunes: expired rows are harmless, only their number matters. */
export const defaultPruneIntervalMs = 5 * 60_000;

const prunableTables = (projections: readonly Projection[]): (ProjectionTable & { readonly expiresAt: string })[] =>
  projections.flatMap((projection) => projection.tables.filter((table): table is ProjectionTable & { expiresAt: string } => table.expiresAt !== undefined));

/**
 * One batch: the oldest expired rows that no one else holds. `SKIP LOCKED` lets several instances
 * prune at once, each deleting rows the others are not, without waiting on each other.
 */
const batchStatement = (table: ProjectionTable & { readonly expiresAt: string }): string => {
  const name = pg.escapeIdentifier(table.name);
  const expiresAt = pg.escapeIdentifier(table.expiresAt);
  const keys = table.key.map((column) => pg.escapeIdentifier(column));
  return `WITH doomed AS (
            SELECT ${keys.join(', ')} FROM ${name} WHERE ${expiresAt} <= $1 ORDER BY ${expiresAt} LIMIT $2 FOR UPDATE SKIP LOCKED
          )
          DELETE FROM ${name} AS t USING doomed WHERE ${keys.map((key) => `t.${key} = doomed.${key}`).join(' AND ')}`;
};

/**
 * Deletes the projection rows past their expiry at `now` (the tables that declare `expiresAt`:
 * access and refresh tokens), in batches of `batchSize`, each its own statement. Returns how many
 * rows each table lost. Safe while other instances prune, and while the service writes: a row is
 * deleted once its own expiry has passed, and nothing refers to it any more then (an expired token
 * is refused whether its row exists or not).
 *
 * @example
 * const deleted = await pruneExpiredRows(pool, posAuthProjections, { now: new Date() });
 * // { access_tokens: 1204, refresh_tokens: 87 }
 */
export const pruneExpiredRows = async (
  pool: pg.Pool,
  projections: readonly Projection[],
  options: { readonly now: Date; readonly batchSize?: number },
): Promise<Record<string, number>> => {
  const batchSize = options.batchSize ?? defaultPruneBatchSize;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new TypeError(`pruneExpiredRows: batchSize must be a whole number from 1, got ${batchSize}`);
  const deleted: Record<string, number> = {};
  for (const table of prunableTables(projections)) {
    const text = batchStatement(table);
    let total = 0;
    for (;;) {
      const count = (await pool.query(text, [options.now, batchSize])).rowCount ?? 0;
      total += count;
      // A short batch: nothing expired is left but rows another instance is deleting right now.
      if (count < batchSize) break;
    }
    deleted[table.name] = total;
  }
  return deleted;
};

export interface PruningJobOptions {
  readonly clock: Clock;
  /** Between the end of one run and the start of the next (default `defaultPruneIntervalMs`). */
  readonly intervalMs?: number;
  readonly batchSize?: number;
  /** After each run that deleted something. */
  readonly onPruned?: (deleted: Record<string, number>) => void;
  /** A failed run; the job goes on and tries again at the next interval. */
  readonly onError: (error: unknown) => void;
}

export interface PruningJob {
  /** No further run starts; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `pruneExpiredRows` at once and then every `intervalMs`, one run at a time, until stopped.
 * Its timer does not keep the process alive. Every instance of the service runs one: their runs
 * may overlap, which `pruneExpiredRows` allows.
 *
 * @example
 * const pruning = startPruningJob(pool, posAuthProjections, { clock: systemClock, onError: (err) => logger.error({ err }) });
 * // at shutdown, before closing the pool:
 * await pruning.stop();
 */
export const startPruningJob = (pool: pg.Pool, projections: readonly Projection[], options: PruningJobOptions): PruningJob => {
  const intervalMs = options.intervalMs ?? defaultPruneIntervalMs;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const run = async () => {
    try {
      const deleted = await pruneExpiredRows(pool, projections, { now: options.clock.now(), ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }) });
      if (Object.values(deleted).some((count) => count > 0)) options.onPruned?.(deleted);
    } catch (error) {
      options.onError(error);
    }
  };
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      running = run().then(() => {
        if (!stopped) schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  };
  schedule(0);

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};
