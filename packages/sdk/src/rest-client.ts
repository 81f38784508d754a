import { basicAuthorization } from './credentials.js';
import { errorFromResponse, invalidResponse, isRecord, notAuthenticated, readJson } from './errors.js';
import { createMemoryTokenStorage, type TokenSet, type TokenStorage } from './token-storage.js';

export type PosAuthRole = 'admin' | 'manager' | 'chef' | 'expeditor' | 'patron';

/** A user account as the SDK returns it: the API's user resource, camelCased. */
export interface PosAuthUser {
  readonly id: string;
  readonly userName: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly role: PosAuthRole;
  /** A disabled account cannot log in, and its sessions ended when it was disabled. */
  readonly disabled: boolean;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  /** ISO 8601 UTC. */
  readonly updatedAt: string;
}

export interface RegisterInput {
  readonly userName: string;
  readonly password: string;
  readonly email?: string | null | undefined;
  readonly name?: string | null | undefined;
  /** Only an admin's session may ask for a role other than `patron` (else 403). */
  readonly role?: PosAuthRole | undefined;
}

export interface LoginInput {
  readonly userName: string;
  readonly password: string;
  readonly scope?: string | undefined;
}

export interface PosAuthClientOptions {
  /** Where pos-auth answers, e.g. `https://auth.pos.example` (a trailing slash is fine). */
  readonly baseUrl: string;
  /** The client registered with pos-auth (`AUTH_CLIENTS`) that this app logs in as. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The `fetch` to call; the global one by default. */
  readonly fetch?: typeof fetch | undefined;
  /** Refresh before a request when the access token expires within this many seconds. */
  readonly refreshSkewSeconds?: number | undefined;
  /** Where the session's tokens are kept; in memory by default. */
  readonly storage?: TokenStorage | undefined;
  /** The current time in epoch milliseconds; `Date.now` by default. For tests. */
  readonly now?: (() => number) | undefined;
}

export const posAuthClientDefaults = { refreshSkewSeconds: 30 } as const;

/** A pos-auth REST client with one session (see `createPosAuthClient`). */
export interface PosAuthClient {
  /** `POST /users`: creates an account. */
  register(input: RegisterInput): Promise<PosAuthUser>;
  /** `POST /auth/token` (password grant): logs in, keeps the tokens and returns them. */
  login(input: LoginInput): Promise<TokenSet>;
  /** `POST /auth/refresh-token`: rotates the kept tokens, keeps the new ones and returns them. */
  refresh(): Promise<TokenSet>;
  /** `GET /users/me`: the logged-in user. */
  me(): Promise<PosAuthUser>;
  /** Forgets the kept tokens. */
  logout(): Promise<void>;
  /** An access token that is valid for at least `refreshSkewSeconds`, refreshing when needed. */
  getAccessToken(): Promise<string>;
  /** The kept tokens, or null when logged out. */
  readonly tokens: TokenSet | null;
}

const roleNames: ReadonlySet<string> = new Set<PosAuthRole>(['admin', 'manager', 'chef', 'expeditor', 'patron']);

const nullableString = (value: unknown): value is string | null => value === null || typeof value === 'string';

const userFrom = async (response: Response): Promise<PosAuthUser> => {
  const body = await readJson(response);
  if (
    !isRecord(body) ||
    typeof body['id'] !== 'string' ||
    typeof body['user_name'] !== 'string' ||
    !nullableString(body['email'] ?? null) ||
    !nullableString(body['name'] ?? null) ||
    typeof body['role'] !== 'string' ||
    !roleNames.has(body['role']) ||
    typeof body['disabled'] !== 'boolean' ||
    typeof body['created_at'] !== 'string' ||
    typeof body['updated_at'] !== 'string'
  ) {
    throw invalidResponse(response, 'a body that is not a user resource');
  }
  return {
    id: body['id'],
    userName: body['user_name'],
    email: (body['email'] ?? null) as string | null,
    name: (body['name'] ?? null) as string | null,
    role: body['role'] as PosAuthRole,
    disabled: body['disabled'],
    createdAt: body['created_at'],
    updatedAt: body['updated_at'],
  };
};

const tokenSetFrom = async (response: Response, now: number): Promise<TokenSet> => {
  const body = await readJson(response);
  if (
    !isRecord(body) ||
    typeof body['access_token'] !== 'string' ||
    typeof body['refresh_token'] !== 'string' ||
    typeof body['expires_in'] !== 'number'
  ) {
    throw invalidResponse(response, 'a body that is not a token response');
  }
  const expiresAt = body['expires_at'];
  const scope = body['scope'];
  return {
    accessToken: body['access_token'],
    refreshToken: body['refresh_token'],
    tokenType: typeof body['token_type'] === 'string' ? body['token_type'] : 'Bearer',
    expiresIn: body['expires_in'],
    // The server's instant when it sends one; a server that does not is read per RFC 6749.
    expiresAt:
      typeof expiresAt === 'string' && !Number.isNaN(Date.parse(expiresAt))
        ? expiresAt
        : new Date(now + body['expires_in'] * 1000).toISOString(),
    ...(typeof scope === 'string' ? { scope } : {}),
  };
};

/** Lets the connection be reused when a body is not read. */
const discard = async (response: Response): Promise<void> => {
  await response.body?.cancel().catch(() => undefined);
};

const requireString = (options: PosAuthClientOptions, name: 'baseUrl' | 'clientId' | 'clientSecret') => {
  if (typeof options[name] !== 'string' || options[name] === '') {
    throw new TypeError(`createPosAuthClient: ${name} must be a non-empty string.`);
  }
};

/**
 * Creates a typed REST client for an admin panel or a service: it logs a user in with the
 * password grant as the given client, keeps the session's tokens in `storage`, and sends the
 * access token on the protected endpoints. Before a request it refreshes a token that expires
 * within `refreshSkewSeconds`, and on a 401 it refreshes once and retries once. Refreshes are
 * single-flight: concurrent callers that need one share the one `POST /auth/refresh-token` in
 * flight, because a refresh token works once and a second concurrent refresh would be refused.
 * A refresh refused with `invalid_grant` forgets the session and throws (log in again). Refusals
 * are `PosAuthError`s; network failures are `fetch`'s own errors. Runs wherever `fetch` does.
 *
 * @example
 * const auth = createPosAuthClient({
 *   baseUrl: 'https://auth.pos.example',
 *   clientId: 'admin-panel',
 *   clientSecret: 'admin-panel-secret',
 *   storage: createWebTokenStorage(window.sessionStorage),
 * });
 * await auth.login({ userName: 'ana', password: 'correct horse battery' });
 * const me = await auth.me(); // { id, userName: 'ana', role: 'admin', ... }
 * const orders = await fetch('https://orders.pos.example/orders', {
 *   headers: { Authorization: `Bearer ${await auth.getAccessToken()}` },
 * });
 */
export const createPosAuthClient = (options: PosAuthClientOptions): PosAuthClient => {
  requireString(options, 'baseUrl');
  requireString(options, 'clientId');
  requireString(options, 'clientSecret');
  const skewSeconds = options.refreshSkewSeconds ?? posAuthClientDefaults.refreshSkewSeconds;
  if (!Number.isFinite(skewSeconds) || skewSeconds < 0) {
    throw new TypeError('createPosAuthClient: refreshSkewSeconds must be a finite number of seconds, 0 or more.');
  }
  const baseUrl = options.baseUrl.replace(/\/+$/u, '');
  // Called bare, never as a method of `options`: a browser's fetch refuses another `this`.
  const send: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = options.now ?? Date.now;
  const storage = options.storage ?? createMemoryTokenStorage();
  const clientAuthorization = basicAuthorization(options);

  const request = (method: 'GET' | 'POST', path: string, authorization: string | null, body?: object) =>
    send(`${baseUrl}${path}`, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(authorization === null ? {} : { Authorization: authorization }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const ok = async (response: Response): Promise<Response> => {
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  };

  // The refresh in flight, keyed by the refresh token it presented. Set in the same turn as the
  // check that found none, so no second refresh of that token can start until it settles.
  let refreshing: { readonly from: string; readonly tokens: Promise<TokenSet> } | null = null;

  /** The refresh in flight for the kept session, if any (not one of a session since replaced). */
  const inFlightFor = (kept: TokenSet): Promise<TokenSet> | null =>
    refreshing !== null && refreshing.from === kept.refreshToken ? refreshing.tokens : null;

  const rotate = (kept: TokenSet): Promise<TokenSet> => {
    const joined = inFlightFor(kept);
    if (joined !== null) return joined;
    const entry = {
      from: kept.refreshToken,
      tokens: (async () => {
        const response = await request('POST', '/auth/refresh-token', null, { refresh_token: kept.refreshToken });
        // Only the session this refresh rotated is replaced or forgotten: a login (or another tab
        // sharing the storage) may have put a newer one there meanwhile.
        const current = storage.get();
        const stillKept = current?.refreshToken === kept.refreshToken;
        if (!response.ok) {
          const error = await errorFromResponse(response);
          if (error.code === 'invalid_grant') {
            if (current !== null && !stillKept) return current;
            if (stillKept) storage.clear();
          }
          throw error;
        }
        const tokens = await tokenSetFrom(response, now());
        if (storage.get()?.refreshToken === kept.refreshToken) storage.set(tokens);
        return tokens;
      })().finally(() => {
        if (refreshing === entry) refreshing = null;
      }),
    };
    refreshing = entry;
    return entry.tokens;
  };

  const expiresSoon = (tokens: TokenSet): boolean =>
    // Written so that an unreadable `expiresAt` (NaN) counts as expiring.
    !(Date.parse(tokens.expiresAt) - now() > skewSeconds * 1000);

  const getAccessToken = async (): Promise<string> => {
    const kept = storage.get();
    if (kept === null) throw notAuthenticated();
    const inFlight = inFlightFor(kept);
    if (inFlight !== null) return (await inFlight).accessToken;
    if (expiresSoon(kept)) return (await rotate(kept)).accessToken;
    return kept.accessToken;
  };

  /** After the server refused `used`: a token it has not refused yet, refreshing only if nobody has. */
  const replacementFor = async (used: string): Promise<string> => {
    const kept = storage.get();
    if (kept === null) throw notAuthenticated();
    const inFlight = inFlightFor(kept);
    if (inFlight !== null) return (await inFlight).accessToken;
    if (kept.accessToken !== used) return kept.accessToken;
    return (await rotate(kept)).accessToken;
  };

  /** Sends with the access token; on a 401, once more with a refreshed one. */
  const withAccessToken = async (attempt: (authorization: string) => Promise<Response>): Promise<Response> => {
    const used = await getAccessToken();
    const first = await attempt(`Bearer ${used}`);
    if (first.status !== 401) return first;
    await discard(first);
    return attempt(`Bearer ${await replacementFor(used)}`);
  };

  return {
    register: async (input) => {
      const body = {
        user_name: input.userName,
        password: input.password,
        ...(input.email === undefined ? {} : { email: input.email }),
        ...(input.name === undefined ? {} : { name: input.name }),
        ...(input.role === undefined ? {} : { role: input.role }),
      };
      // A kept session registers as its user (an admin may then pick the role); otherwise as the client.
      const response =
        storage.get() === null
          ? await request('POST', '/users', clientAuthorization, body)
          : await withAccessToken((authorization) => request('POST', '/users', authorization, body));
      return userFrom(await ok(response));
    },

    login: async (input) => {
      const response = await ok(
        await request('POST', '/auth/token', clientAuthorization, {
          grant_type: 'password',
          user_name: input.userName,
          password: input.password,
          ...(input.scope === undefined ? {} : { scope: input.scope }),
        }),
      );
      const tokens = await tokenSetFrom(response, now());
      storage.set(tokens);
      return tokens;
    },

    refresh: async () => {
      const kept = storage.get();
      if (kept === null) throw notAuthenticated();
      return rotate(kept);
    },

    me: async () => userFrom(await ok(await withAccessToken((authorization) => request('GET', '/users/me', authorization)))),

    // pos-auth has no revocation endpoint yet: the session ends when its refresh token expires.
    logout: async () => {
      storage.clear();
    },

    getAccessToken,

    get tokens() {
      return storage.get();
    },
  };
};
