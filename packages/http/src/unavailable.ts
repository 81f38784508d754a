import { PasswordHasherBusyError, RateLimiterUnavailableError, isDatabaseUnavailable } from '@pos-auth/infrastructure';

/**
 * Why a request cannot be served right now, for the log, or null when `error` is not such a
 * failure: the database cannot be reached, the per-IP count cannot be had, or password hashing is
 * saturated. Each transport answers all three 503 with `Retry-After`, and shows none of the cause.
 */
export const unavailabilityOf = (error: unknown): string | null => {
  if (error instanceof PasswordHasherBusyError) return 'password hashing saturated';
  if (error instanceof RateLimiterUnavailableError) return 'per-IP rate limiter unavailable';
  if (isDatabaseUnavailable(error)) return 'database unavailable';
  return null;
};
