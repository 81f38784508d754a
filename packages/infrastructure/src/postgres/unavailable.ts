import { DatabaseError } from 'pg';

/**
 * SQLSTATEs that say the connection is gone or was never let in: the server is shutting down or
 * was terminated by an administrator (57P01, 57P02), is starting or recovering (57P03), has no
 * room for another connection (53300), or any connection exception (class 08).
 */
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300']);

/** Socket errors on the way to the server: refused, reset, unreachable, timed out, unresolvable. */
const unavailableSocketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * What pg and pg-pool throw, as plain `Error`s without a code, when a connection ends or cannot be
 * had: "Connection terminated unexpectedly", "... due to connection timeout", "timeout exceeded
 * when trying to connect", "Client has encountered a connection error and is not queryable",
 * "Client was closed and is not queryable", and a pool that was ended during shutdown.
 */
const unavailableMessages = [
  /^Connection terminated/u,
  /^timeout exceeded when trying to connect$/u,
  /^Client has encountered a connection error and is not queryable$/u,
  /^Client was closed and is not queryable$/u,
  /^Cannot use a pool after calling end on the pool$/u,
];

const isUnavailable = (error: unknown, depth: number): boolean => {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  if (error instanceof DatabaseError) {
    const code = error.code ?? '';
    return unavailableStates.has(code) || code.startsWith('08');
  }
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && unavailableSocketCodes.has(code)) return true;
  if (typeof message === 'string' && unavailableMessages.some((pattern) => pattern.test(message))) return true;
  // Node reports a refused connection to every address of a host as one AggregateError.
  if (Array.isArray(errors) && errors.some((inner) => isUnavailable(inner, depth + 1))) return true;
  return isUnavailable(cause, depth + 1);
};

/**
 * True when `error` means the database cannot be reached right now (a connection lost, refused or
 * timed out), as opposed to a query that failed: the one place that tells them apart. Both
 * transports answer such a failure 503 with `Retry-After`, and the service recovers by itself
 * once the database is back, since the pool opens new connections on demand.
 *
 * @example
 * try { await eventStore.appendToStream(...) }
 * catch (error) { if (isDatabaseUnavailable(error)) return answer503(); throw error; }
 */
export const isDatabaseUnavailable = (error: unknown): boolean => isUnavailable(error, 0);
