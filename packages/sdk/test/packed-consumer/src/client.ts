// What a browser app does with @pos-auth/sdk: the REST client and the typed tRPC client.
import {
  PosAuthError,
  createMemoryTokenStorage,
  createPosAuthClient,
  createPosAuthTrpcClient,
  type PosAuthRole,
  type PosAuthSession,
  type PosAuthTrpcClient,
  type PosAuthUser,
} from '@pos-auth/sdk';

/** Never called: the router's type is real, not `any`, so an unknown procedure and a wrong input do not compile. */
export const wrongCalls = (trpc: PosAuthTrpcClient) => [
  // @ts-expect-error there is no users.promote procedure
  trpc.users.promote,
  // @ts-expect-error users.list takes a number as limit
  trpc.users.list.query({ limit: 'all' }),
];

export const useThePackage = async (baseUrl: string, clientId: string, clientSecret: string) => {
  const auth = createPosAuthClient({ baseUrl, clientId, clientSecret, storage: createMemoryTokenStorage() });
  const ended: string[] = [];
  auth.onSessionEnded(({ reason }) => ended.push(reason));

  const registered: PosAuthUser = await auth.register({ userName: 'packed', password: 'a passphrase from the tarball' });
  await auth.login({ userName: 'packed', password: 'a passphrase from the tarball' });
  const role: PosAuthRole = (await auth.me()).role;
  const sessions: readonly PosAuthSession[] = await auth.sessions();
  const page = await auth.users.list({ limit: 1 });

  const trpc = createPosAuthTrpcClient({ url: `${baseUrl}/trpc`, getAccessToken: () => auth.getAccessToken() });
  const viaTrpc = await trpc.users.me.query();
  const userName: string = viaTrpc.userName;

  let refusal: string | null = null;
  try {
    await auth.login({ userName: 'packed', password: 'not the passphrase' });
  } catch (error) {
    if (error instanceof PosAuthError) refusal = `${error.status} ${error.code}`;
  }
  const accessToken = await auth.getAccessToken();
  return { registered: registered.role, role, sessions: sessions.length, listed: page.items.length, userName, refusal, ended, accessToken, auth };
};
