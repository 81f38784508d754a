import { basicAuthorization, type PosAuthClientCredentials } from '../credentials.js';
import { AccessTokenRefusal } from './refusal.js';

/** The introspection answer for an active token, as the verifier reads it. */
export type ActiveIntrospection = Readonly<Record<string, unknown>> & { readonly active: true };

export interface IntrospectionCacheOptions {
  /**
   * How long an answer is reused, in seconds. A revocation reaches this resource server within
   * that time; 0 asks pos-auth on every request, so a revocation is seen on the very next one. An
   * active answer is never reused past the token's `exp`.
   */
  readonly cacheTtlSeconds?: number | undefined;
  /** The most answers kept; the least recently used goes first. */
  readonly cacheMaxEntries?: number | undefined;
}

export const introspectionCacheDefaults = { cacheTtlSeconds: 5, cacheMaxEntries: 10_000 } as const;

interface Entry {
  readonly answer: ActiveIntrospection | null;
  readonly until: number;
}

const digestOf = async (token: string): Promise<string> => {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
};

/**
 * RFC 7662 introspection with a small cache. Answers are kept by the token's SHA-256 (never the
 * token itself) for `cacheTtlSeconds`, at most `cacheMaxEntries` of them; concurrent checks of one
 * token share one request. Only answers are cached: a request that fails (network, timeout, a
 * status other than 200, a body that is not an answer) is a 503-kind refusal, never kept and
 * never taken for "inactive".
 *
 * @example
 * const introspect = createIntrospectionClient(async () => endpoint, credentials, { fetch, now: Date.now });
 * const active = await introspect(token); // null when inactive
 */
export const createIntrospectionClient = (
  endpoint: () => Promise<string>,
  credentials: PosAuthClientCredentials,
  options: IntrospectionCacheOptions & { readonly fetch: typeof fetch; readonly now: () => number; readonly timeoutMs: number },
): ((token: string) => Promise<ActiveIntrospection | null>) => {
  const ttlMs = (options.cacheTtlSeconds ?? introspectionCacheDefaults.cacheTtlSeconds) * 1000;
  const maxEntries = options.cacheMaxEntries ?? introspectionCacheDefaults.cacheMaxEntries;
  if (!(ttlMs >= 0) || !Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError('introspection: cacheTtlSeconds must be at least 0 and cacheMaxEntries a whole number from 1');
  }
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<ActiveIntrospection | null>>();

  const ask = async (token: string): Promise<ActiveIntrospection | null> => {
    let response: Response;
    try {
      response = await options.fetch(await endpoint(), {
        method: 'POST',
        headers: {
          authorization: basicAuthorization(credentials),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      if (error instanceof AccessTokenRefusal) throw error;
      throw new AccessTokenRefusal('temporarily_unavailable', 'introspection_unreachable', { cause: error });
    }
    if (response.status !== 200) {
      throw new AccessTokenRefusal('temporarily_unavailable', `introspection_status_${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new AccessTokenRefusal('temporarily_unavailable', 'introspection_not_json', { cause: error });
    }
    const active = (body as { active?: unknown } | null)?.active;
    if (active === false) return null;
    if (active !== true) throw new AccessTokenRefusal('temporarily_unavailable', 'introspection_without_active');
    return body as ActiveIntrospection;
  };

  const remember = (key: string, answer: ActiveIntrospection | null) => {
    if (ttlMs === 0) return;
    const now = options.now();
    const exp = answer?.['exp'];
    const until = Math.min(now + ttlMs, typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY);
    cache.delete(key);
    cache.set(key, { answer, until });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  return async (token) => {
    const key = await digestOf(token);
    const cached = cache.get(key);
    if (cached !== undefined) {
      cache.delete(key);
      if (options.now() < cached.until) {
        cache.set(key, cached);
        return cached.answer;
      }
    }
    let pending = inFlight.get(key);
    if (pending === undefined) {
      pending = ask(token).then((answer) => {
        remember(key, answer);
        return answer;
      });
      const settled = pending.finally(() => inFlight.delete(key));
      settled.catch(() => undefined);
      inFlight.set(key, pending);
    }
    return pending;
  };
};
