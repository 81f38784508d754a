import { posAuthConsumers, startSubscription, type PostgresEventStore, type SubscriptionOptions } from '@pos-auth/infrastructure';
import type { Logger } from 'pino';
import type pg from 'pg';

export interface RunningConsumers {
  /** Stops them after the batch in hand; another instance takes each over. */
  stop(): Promise<void>;
}

/**
 * Runs pos-auth's log consumers (the login-activity read model) on this instance: each runs on one
 * instance at a time across all that share the database, and this one stands by for the others.
 *
 * @example
 * const consumers = startConsumers(pool, deps.eventStore, logger);
 * await consumers.stop();
 */
export const startConsumers = (
  pool: pg.Pool,
  eventStore: PostgresEventStore,
  logger: Logger,
  options: Omit<SubscriptionOptions, 'onError'> = {},
): RunningConsumers => {
  const running = posAuthConsumers.map((consumer) =>
    startSubscription(pool, eventStore, consumer, {
      ...options,
      onError: (error) => logger.warn({ err: error, consumer: consumer.name }, 'log consumer failed; it tries again'),
    }),
  );
  return {
    stop: async () => {
      await Promise.all(running.map((subscription) => subscription.stop()));
    },
  };
};
