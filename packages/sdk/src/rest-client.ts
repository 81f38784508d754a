import type { ListedSession, Role, UserPageView, UserView } from '@pos-auth/contract';
import { basicAuthorization } from './credentials.js';
import { PosAuthError } from './errors.js';
import { discard, errorFromResponse, readReply } from './replies.js';
import { createSession, type HttpMethod, type SessionEnded } from './session.js';
import { globalWebLocks, type WebLocks } from './tab-turns.js';
import { createMemoryTokenStorage, type TokenSet, type TokenStorage } from './token-storage.js';

export type PosAuthRole = Role;

/** A user account as the SDK returns it: the API's user resource, camelCased (the contract's `UserView`). */
export type PosAuthUser = Readonly<UserView>;

/** One page of `users.list`: `nextCursor` is null on the last page. */
export type PosAuthUserPage = Readonly<UserPageView>;

/** An active session of a user (the contract's `ListedSession`); `current` marks the one that asked. */
export type PosAuthSession = Readonly<ListedSession>;

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

export interface LogoutOptions {
  /** Which of the user's sessions end: this one (the default), the `others`, or `all`. */
  readonly scope?: 'current' | 'others' | 'all' | undefined;
}

export interface ChangePasswordInput {
  readonly currentPassword: string;
  readonly newPassword: string;
}

/** Filters and paging of `users.list`; every field is optional. */
export interface ListUsersQuery {
  /** Accounts per page, 1 to 200 (50 when absent). */
  readonly limit?: number | undefined;
  /** The `nextCursor` of the page before. */
  readonly cursor?: string | undefined;
  readonly role?: PosAuthRole | undefined;
  readonly disabled?: boolean | undefined;
  /** A user-name prefix, compared as logins compare names. */
  readonly q?: string | undefined;
}

/** What `users.update` changes; `null` clears `name` or `email`. */
export interface UserChanges {
  readonly role?: PosAuthRole | undefined;
  /** Disabling ends all the user's sessions at once. */
  readonly disabled?: boolean | undefined;
  readonly name?: string | null | undefined;
  readonly email?: string | null | undefined;
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
  /**
   * The Web Locks that let tabs sharing `storage` refresh one at a time: `navigator.locks` by
   * default where there is one; null for none (each tab then refreshes on its own, which the
   * server's grace window answers alike).
   */
  readonly locks?: WebLocks | null | undefined;
  /** The current time in epoch milliseconds; `Date.now` by default. For tests. */
  readonly now?: (() => number) | undefined;
}

export const posAuthClientDefaults = { refreshSkewSeconds: 30 } as const;

/** The admin's part of a `PosAuthClient`: other users' accounts and sessions. Every call needs an admin's session (else 403). */
export interface PosAuthUsers {
  /** `GET /users`: one page of accounts, ordered by user name. */
  list(query?: ListUsersQuery): Promise<PosAuthUserPage>;
  /** Every account that matches, page after page (`GET /users` as often as it takes). */
  all(query?: Omit<ListUsersQuery, 'cursor'>): AsyncGenerator<PosAuthUser, void, undefined>;
  /** `GET /users/{id}`. */
  get(userId: string): Promise<PosAuthUser>;
  /** `PATCH /users/{id}`: the account as changed. The last active admin can be neither demoted nor disabled (409 `LAST_ADMIN`). */
  update(userId: string, changes: UserChanges): Promise<PosAuthUser>;
  /** `POST /users/{id}/password`: sets a new password and ends every session of that user. */
  resetPassword(userId: string, newPassword: string): Promise<void>;
  /** `DELETE /users/{id}`: erases the person's data, ends their sessions, frees the user name. */
  erase(userId: string): Promise<void>;
  /** `GET /users/{id}/sessions`: that user's active sessions, newest first. */
  sessions(userId: string): Promise<readonly PosAuthSession[]>;
  /** `DELETE /users/{id}/sessions/{sid}`: ends one of that user's sessions. */
  endSession(userId: string, sessionId: string): Promise<void>;
}

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
  /**
   * `POST /auth/logout`: ends this session (or the user's `others`, or `all`), then forgets the
   * kept tokens unless only the others ended. Without a kept session it does nothing.
   */
  logout(options?: LogoutOptions): Promise<void>;
  /** `POST /users/me/password`: the user's other sessions end; this one goes on. */
  changePassword(input: ChangePasswordInput): Promise<void>;
  /** `GET /users/me/sessions`: the user's active sessions, newest first; `current` marks this one. */
  sessions(): Promise<readonly PosAuthSession[]>;
  /** `DELETE /users/me/sessions/{id}`: ends one of the user's sessions (for this one, `logout` also forgets it). */
  endSession(sessionId: string): Promise<void>;
  /** Accounts and sessions of any user, for an admin. */
  readonly users: PosAuthUsers;
  /**
   * Calls `listener` once when the server has ended the kept session, which is then forgotten
   * (see `createPosAuthClient`). Returns a function that removes the listener.
   */
  onSessionEnded(listener: (ended: SessionEnded) => void): () => void;
  /** An access token that is valid for at least `refreshSkewSeconds`, refreshing when needed. */
  getAccessToken(): Promise<string>;
  /** The kept tokens, or null when logged out. */
  readonly tokens: TokenSet | null;
}

const requireString = (options: PosAuthClientOptions, name: 'baseUrl' | 'clientId' | 'clientSecret') => {
  if (typeof options[name] !== 'string' || options[name] === '') {
    throw new TypeError(`createPosAuthClient: ${name} must be a non-empty string.`);
  }
};

const segment = (id: string) => encodeURIComponent(id);

const queryString = (query: ListUsersQuery): string => {
  const params = new URLSearchParams();
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.cursor !== undefined) params.set('cursor', query.cursor);
  if (query.role !== undefined) params.set('role', query.role);
  if (query.disabled !== undefined) params.set('disabled', String(query.disabled));
  if (query.q !== undefined) params.set('q', query.q);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
};

/** A refusal that says the session is over already: what a logout was for. */
const sessionIsOver = (error: unknown): boolean =>
  error instanceof PosAuthError && (error.code === 'invalid_grant' || error.code === 'NOT_AUTHENTICATED' || error.status === 401);

/**
 * Creates a typed REST client for an admin panel or a service: it logs a user in with the
 * password grant as the given client, keeps the session's tokens in `storage`, and sends the
 * access token on the protected endpoints. Before a request it refreshes a token that expires
 * within `refreshSkewSeconds`, and on a 401 it refreshes once and retries once. Refreshes are
 * single-flight: concurrent callers share the one `POST /auth/refresh-token` in flight, because a
 * refresh token works once. Tabs that share a `localStorage` (`createWebTokenStorage`) refresh
 * one at a time as well, through Web Locks where the browser has them: a tab whose turn comes
 * after another tab refreshed takes up that tab's tokens and sends nothing.
 *
 * When the server has ended the session (a refresh refused with `invalid_grant`: revoked, reused
 * or expired; or a request refused with 401 again after a refresh) the tokens are forgotten, the
 * refusal is thrown, and the `onSessionEnded` listeners are called once, here and in the other
 * tabs that share the storage (there also on a logout). Network failures end nothing. Refusals
 * are `PosAuthError`s; network failures are `fetch`'s own errors. Every answer is read with the
 * contract's schema for its endpoint. Runs wherever `fetch` does.
 *
 * @example
 * const auth = createPosAuthClient({
 *   baseUrl: 'https://auth.pos.example',
 *   clientId: 'admin-panel',
 *   clientSecret: 'admin-panel-secret',
 *   storage: createWebTokenStorage(window.localStorage),
 * });
 * auth.onSessionEnded(() => router.navigate('/login'));
 * await auth.login({ userName: 'ana', password: 'correct horse battery' });
 * const me = await auth.me(); // { id, userName: 'ana', role: 'admin', ... }
 * for await (const chef of auth.users.all({ role: 'chef' })) console.log(chef.userName);
 * await auth.logout();
 */
export const createPosAuthClient = (options: PosAuthClientOptions): PosAuthClient => {
  requireString(options, 'baseUrl');
  requireString(options, 'clientId');
  requireString(options, 'clientSecret');
  const skewSeconds = options.refreshSkewSeconds ?? posAuthClientDefaults.refreshSkewSeconds;
  if (!Number.isFinite(skewSeconds) || skewSeconds < 0) {
    throw new TypeError('createPosAuthClient: refreshSkewSeconds must be a finite number of seconds, 0 or more.');
  }
  const clientAuthorization = basicAuthorization(options);
  const session = createSession({
    baseUrl: options.baseUrl.replace(/\/+$/u, ''),
    // Called bare, never as a method of `options`: a browser's fetch refuses another `this`.
    send: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    storage: options.storage ?? createMemoryTokenStorage(),
    now: options.now ?? Date.now,
    skewSeconds,
    locks: options.locks === undefined ? globalWebLocks() : options.locks,
  });
  const { request, withAccessToken } = session;

  const ok = async (response: Response): Promise<Response> => {
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  };

  /** A request as the kept session's user: the success, or its refusal thrown. */
  const asUser = async (method: HttpMethod, path: string, body?: object): Promise<Response> =>
    ok(await withAccessToken((authorization) => request(method, path, authorization, body)));

  /** The same, for an endpoint that answers no body. */
  const asUserNoBody = async (method: HttpMethod, path: string, body?: object): Promise<void> => {
    await discard(await asUser(method, path, body));
  };

  const list = async (query: ListUsersQuery = {}) => readReply('GET /users', await asUser('GET', `/users${queryString(query)}`));

  const users: PosAuthUsers = {
    list,
    all: async function* (query = {}) {
      let cursor: string | null | undefined;
      do {
        const page = await list({ ...query, cursor: cursor ?? undefined });
        yield* page.items;
        cursor = page.nextCursor;
      } while (cursor !== null);
    },
    get: async (userId) => readReply('GET /users/{id}', await asUser('GET', `/users/${segment(userId)}`)),
    update: async (userId, changes) => readReply('PATCH /users/{id}', await asUser('PATCH', `/users/${segment(userId)}`, changes)),
    resetPassword: (userId, newPassword) => asUserNoBody('POST', `/users/${segment(userId)}/password`, { new_password: newPassword }),
    erase: (userId) => asUserNoBody('DELETE', `/users/${segment(userId)}`),
    sessions: async (userId) => readReply('GET /users/{id}/sessions', await asUser('GET', `/users/${segment(userId)}/sessions`)),
    endSession: (userId, sessionId) => asUserNoBody('DELETE', `/users/${segment(userId)}/sessions/${segment(sessionId)}`),
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
      const response = session.tokens === null ? await ok(await request('POST', '/users', clientAuthorization, body)) : await asUser('POST', '/users', body);
      return readReply('POST /users', response);
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
      const tokens = await readReply('POST /auth/token', response);
      session.keep(tokens);
      return tokens;
    },

    refresh: session.refresh,

    me: async () => readReply('GET /users/me', await asUser('GET', '/users/me')),

    logout: async ({ scope = 'current' } = {}) => {
      const kept = session.tokens;
      if (kept === null) return;
      const sentWith: string[] = [kept.accessToken];
      const forget = () => {
        if (scope !== 'others') session.forget(sentWith);
      };
      try {
        await discard(
          await ok(
            await withAccessToken((authorization) => {
              sentWith.push(authorization.slice('Bearer '.length));
              return request('POST', `/auth/logout?scope=${scope}`, authorization);
            }),
          ),
        );
      } catch (error) {
        // A session the server ended already was forgotten then. Any other failure forgets it all
        // the same (a shared terminal must not stay logged in), and is thrown.
        if (sessionIsOver(error) && scope !== 'others') return;
        forget();
        throw error;
      }
      forget();
    },

    changePassword: (input) =>
      asUserNoBody('POST', '/users/me/password', { current_password: input.currentPassword, new_password: input.newPassword }),

    sessions: async () => readReply('GET /users/me/sessions', await asUser('GET', '/users/me/sessions')),

    endSession: (sessionId) => asUserNoBody('DELETE', `/users/me/sessions/${segment(sessionId)}`),

    users,

    onSessionEnded: session.onSessionEnded,

    getAccessToken: session.getAccessToken,

    get tokens() {
      return session.tokens;
    },
  };
};
