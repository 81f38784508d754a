import type pg from 'pg';
import { logStart, type LogPosition, type LoggedEvent, type PostgresEventStore } from './event-store.js';

/** The channel appends notify when they hold an event a consumer wakes for. */
export const logChannel = 'pos_auth_events';

/**
 * A catch-up consumer of the log. `handle` applies a batch of events, in commit-safe order, inside
 * the transaction that then moves the consumer's checkpoint: its writes and the checkpoint commit
 * together, so a batch is applied exactly once even across crashes. It sees every event of the
 * log; `wakeOn` only says which appends notify it at once (the others are picked up by polling).
 */
export interface LogConsumer {
  /** Unique per consumer: names its checkpoint and its lock. */
  readonly name: string;
  readonly wakeOn: readonly string[];
  handle(events: readonly LoggedEvent[], transaction: pg.ClientBase): Promise<void>;
}

export interface SubscriptionOptions {
  /** Events read and applied per transaction (default 500). */
  readonly batchSize?: number;
  /** How long an idle consumer waits for a notification before reading again (default 1000 ms). */
  readonly idlePollMs?: number;
  /** How often a standby instance tries to take over (default 1000 ms). */
  readonly standbyPollMs?: number;
  /** How long to wait after a failure before trying again (default 1000 ms). */
  readonly retryDelayMs?: number;
  /** Told about every failure (the consumer keeps running and tries again). */
  readonly onError?: (error: unknown) => void;
}

export const defaultSubscriptionOptions = { batchSize: 500, idlePollMs: 1000, standbyPollMs: 1000, retryDelayMs: 1000 } as const;

export interface RunningSubscription {
  /** True while this instance holds the consumer's lock and applies events. */
  readonly active: boolean;
  /** Stops after the batch in hand, releases the lock (another instance takes over) and the connection. */
  stop(): Promise<void>;
}

/** A sleep that `wake()` ends early. */
const alarm = () => {
  let ring: (() => void) | null = null;
  return {
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          ring = null;
          resolve();
        }, ms);
        ring = () => {
          clearTimeout(timer);
          ring = null;
          resolve();
        };
      }),
    wake: () => ring?.(),
  };
};

// Keyed by the schema too: one database may hold several pos-auth instances (each test file has one).
const lockKeys = "hashtext('pos-auth:subscription:' || current_schema()), hashtext($1)";

const readCheckpoint = async (client: pg.ClientBase, name: string): Promise<LogPosition> => {
  const { rows } = await client.query<{ transaction_id: string; global_position: string }>(
    'SELECT transaction_id::text AS transaction_id, global_position::text AS global_position FROM subscription_checkpoints WHERE name = $1',
    [name],
  );
  const row = rows[0];
  return row === undefined ? logStart : { transactionId: row.transaction_id, globalPosition: row.global_position };
};

/**
 * Runs `consumer` over the log: reads after its checkpoint with `readAll` (which never passes a
 * transaction still running, so a late commit is never skipped), applies each batch and moves the
 * checkpoint in one transaction, then waits for a notification on `logChannel` (or polls).
 *
 * Once per consumer name across every instance: a session-level advisory lock, held on a
 * connection of its own, decides which instance runs it; the others stand by and take over when
 * the lock is released (by `stop()`, or by PostgreSQL when the holder's connection ends). The
 * checkpoint only moves from the position this instance read, as a second guard.
 *
 * @example
 * const subscription = startSubscription(pool, eventStore, loginActivityConsumer, { onError: (err) => logger.error({ err }) });
 * process.once('SIGTERM', () => subscription.stop());
 */
export const startSubscription = (
  pool: pg.Pool,
  store: Pick<PostgresEventStore, 'readAll'>,
  consumer: LogConsumer,
  options: SubscriptionOptions = {},
): RunningSubscription => {
  const { batchSize, idlePollMs, standbyPollMs, retryDelayMs } = { ...defaultSubscriptionOptions, ...options };
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('startSubscription: batchSize must be a whole number from 1');
  const { sleep, wake } = alarm();
  let stopping = false;
  let active = false;

  const run = async () => {
    let client: pg.PoolClient | null = null;
    let position = logStart;
    while (!stopping) {
      try {
        if (client === null) {
          client = await pool.connect();
          client.on('notification', wake);
          // A dropped connection emits 'error' on its client; the next query fails and is handled below.
          client.on('error', () => undefined);
          await client.query(`LISTEN ${logChannel}`);
        }
        if (!active) {
          const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${lockKeys}) AS locked`, [consumer.name]);
          if (rows[0]?.locked !== true) {
            await sleep(standbyPollMs);
            continue;
          }
          active = true;
          position = await readCheckpoint(client, consumer.name);
        }
        const page = await store.readAll({ after: position, limit: batchSize });
        if (page.events.length === 0) {
          await sleep(idlePollMs);
          continue;
        }
        await client.query('BEGIN');
        try {
          await consumer.handle(page.events, client);
          const moved = await client.query(
            `INSERT INTO subscription_checkpoints AS c (name, transaction_id, global_position) VALUES ($1, $2::xid8, $3::bigint)
             ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position, updated_at = now()
             WHERE (c.transaction_id, c.global_position) = ($4::xid8, $5::bigint)`,
            [consumer.name, page.position.transactionId, page.position.globalPosition, position.transactionId, position.globalPosition],
          );
          if (moved.rowCount !== 1) throw new Error(`The checkpoint of ${consumer.name} moved under this instance: another one runs it`);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
        position = page.position;
      } catch (error) {
        options.onError?.(error);
        // Start again from a fresh connection: the lock, if this instance held it, goes with the old one.
        client?.release(error instanceof Error ? error : new Error(String(error)));
        client = null;
        active = false;
        if (!stopping) await sleep(retryDelayMs);
      }
    }
    if (client !== null) {
      try {
        if (active) await client.query(`SELECT pg_advisory_unlock(${lockKeys})`, [consumer.name]);
        await client.query(`UNLISTEN ${logChannel}`);
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : new Error(String(error)));
      }
      active = false;
    }
  };

  const running = run();
  return {
    get active() {
      return active;
    },
    stop: async () => {
      stopping = true;
      wake();
      await running;
    },
  };
};
