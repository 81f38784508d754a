import type { AppRouter } from '@pos-auth/http';
import { createTRPCClient, httpBatchLink, splitLink, type TRPCClient } from '@trpc/client';
import { basicAuthorization, type PosAuthClientCredentials } from './credentials.js';

export interface PosAuthTrpcClientOptions {
  /** Where the router is mounted, e.g. `https://auth.pos.example/trpc`. */
  readonly url: string;
  /** The access token to send, or null to send none. Called once per HTTP request. */
  readonly getAccessToken?: (() => string | null | Promise<string | null>) | undefined;
  /** The app's client: what `auth.token` authenticates with, and what calls without a token send. */
  readonly client?: PosAuthClientCredentials | undefined;
  /** The `fetch` to call; the global one by default. */
  readonly fetch?: typeof fetch | undefined;
}

/** The typed tRPC client of pos-auth's router: `users.*`, `sessions.*` and `auth.*`, as `AppRouter` declares them. */
export type PosAuthTrpcClient = TRPCClient<AppRouter>;

/** The most calls the server takes in one batch (API.md "Abuse limits"); more are split. */
const maxBatchCalls = 10;

/** The procedure that authenticates the client itself (`Authorization: Basic`), never a user. */
const clientAuthenticatedPath = 'auth.token';

/**
 * Creates a typed tRPC client for pos-auth's router (`AppRouter`, imported as a type only: the
 * server is not a run-time dependency). Calls made in the same tick are batched, at most 10 to one
 * HTTP request (the server's cap), whose `Authorization` is `Bearer <token>` when
 * `getAccessToken` gives a token, else `Basic` client credentials when `client` is given, else
 * absent. `auth.token` always goes in a
 * batch of its own kind with the client's `Basic` credentials, since that is what it reads, even
 * while a user is logged in. Refusals are `TRPCClientError`s whose `data` carries `httpStatus`,
 * the `domainCode` (`USER_NAME_TAKEN`, `INVALID_GRANT`, ...) and the `fieldErrors`.
 *
 * @example
 * const auth = createPosAuthClient({ baseUrl, clientId: 'admin-panel', clientSecret });
 * const trpc = createPosAuthTrpcClient({
 *   url: `${baseUrl}/trpc`,
 *   client: { clientId: 'admin-panel', clientSecret },
 *   getAccessToken: () => (auth.tokens === null ? null : auth.getAccessToken()),
 * });
 * const me = await trpc.users.me.query();
 */
export const createPosAuthTrpcClient = (options: PosAuthTrpcClientOptions): PosAuthTrpcClient => {
  if (typeof options.url !== 'string' || options.url === '') {
    throw new TypeError('createPosAuthTrpcClient: url must be a non-empty string.');
  }
  const clientAuthorization = options.client === undefined ? null : basicAuthorization(options.client);
  const asClient = (): Record<string, string> => (clientAuthorization === null ? {} : { Authorization: clientAuthorization });
  const asUserElseClient = async (): Promise<Record<string, string>> => {
    const token = (await options.getAccessToken?.()) ?? null;
    return token === null ? asClient() : { Authorization: `Bearer ${token}` };
  };
  const customFetch = options.fetch;
  const link = (headers: () => Record<string, string> | Promise<Record<string, string>>) =>
    httpBatchLink<AppRouter>({
      url: options.url,
      headers,
      maxItems: maxBatchCalls,
      // tRPC's own RequestInit type may carry `signal: undefined`, which fetch accepts at run time.
      ...(customFetch === undefined ? {} : { fetch: (url, init) => customFetch(url, init as RequestInit) }),
    });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.path === clientAuthenticatedPath,
        true: link(asClient),
        false: link(asUserElseClient),
      }),
    ],
  });
};
