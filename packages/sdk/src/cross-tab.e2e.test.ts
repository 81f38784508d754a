import { startTestServer, type TestServer } from '@pos-auth/http/testing';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  launchChromium,
  openSdkPage,
  sdkBundle,
  sdkPage,
  skipNote,
  startPageServer,
  type LaunchedChromium,
  type PageServer,
} from '../../../test-support/browser.js';
import type * as Sdk from './index.js';
import { createPosAuthClient, type PosAuthClient, type TokenSet } from './index.js';

/** What a test page holds: the bundled SDK, and what the test made with it there. */
interface Tab {
  readonly posAuthSdk: typeof Sdk;
  readonly localStorage: Sdk.WebStorageLike;
  auth: Sdk.PosAuthClient;
  /** The reasons `onSessionEnded` was called with, in order. */
  ended: Sdk.SessionEndReason[];
}

const password = 'correct horse battery staple';
const refresh = 'POST /auth/refresh-token';
const chromium = inject('chromium');

/**
 * Two tabs of one origin in a real Chromium, each with its own client of the SDK's published
 * build, keeping one session together in `localStorage`: they refresh it once between them
 * (Web Locks), and a tab hears when another logged out or found the session ended (`storage`
 * events). The pages and pos-auth share the page server's origin, which forwards the API's
 * requests and counts them: what reaches the server is counted there.
 */
describe.skipIf(chromium.skipReason !== null)(`the SDK in two browser tabs sharing localStorage ${skipNote(chromium)}`, () => {
  let server: TestServer;
  let origin: PageServer;
  let browser: LaunchedChromium;
  let admin: PosAuthClient;
  const tabs: Page[] = [];

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    const nodeClient = createPosAuthClient({ baseUrl: server.url, clientId: server.client.clientId, clientSecret: server.client.clientSecret });
    await nodeClient.register({ userName: 'ana', password });
    await nodeClient.register({ userName: 'tabitha', password });
    admin = nodeClient;
    await admin.login({ userName: 'ana', password });
    origin = await startPageServer({ upstream: server.url, files: { '/': sdkPage(), '/pos-auth-sdk.js': await sdkBundle() } });
    browser = await launchChromium(chromium.executablePath!);
  });
  afterEach(async () => {
    origin.delay(refresh, 0);
    await Promise.all(tabs.splice(0).map((page) => page.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await origin?.close();
    await server?.close();
  });

  /** A new tab with a client on the shared `localStorage`; `locks: false` takes Web Locks away from it. */
  const openTab = async ({ locks = true } = {}): Promise<Page> => {
    const page = await openSdkPage(browser, origin.url);
    await page.evaluate(
      ({ baseUrl, clientId, clientSecret, locks }) => {
        const tab = globalThis as unknown as Tab;
        const sdk = tab.posAuthSdk;
        const storage = sdk.createWebTokenStorage(tab.localStorage);
        tab.auth = sdk.createPosAuthClient({ baseUrl, clientId, clientSecret, storage, ...(locks ? {} : { locks: null }) });
        tab.ended = [];
        tab.auth.onSessionEnded(({ reason }) => tab.ended.push(reason));
      },
      { baseUrl: origin.url, clientId: server.client.clientId, clientSecret: server.client.clientSecret, locks },
    );
    tabs.push(page);
    return page;
  };

  const login = (page: Page) => page.evaluate((secret) => (globalThis as unknown as Tab).auth.login({ userName: 'tabitha', password: secret }), password);
  const tokensIn = (page: Page): Promise<TokenSet | null> => page.evaluate(() => (globalThis as unknown as Tab).auth.tokens);
  const endedIn = (page: Page) => page.evaluate(() => (globalThis as unknown as Tab).ended);
  /** `me()` in the tab: the user name, or the refusal's code. */
  const me = (page: Page) =>
    page.evaluate(() =>
      (globalThis as unknown as Tab).auth.me().then(
        (user) => user.userName,
        (error: { code?: string }) => `refused: ${error.code}`,
      ),
    );

  /**
   * Makes the stored access token look expired to every tab (its `expiresAt` a minute ago), so
   * that their next call refreshes first; waits until `others` see the change too.
   */
  const expireStoredToken = async (page: Page, others: readonly Page[]) => {
    const expiresAt = await page.evaluate(() => {
      const tab = globalThis as unknown as Tab;
      const stored = JSON.parse(tab.localStorage.getItem('pos-auth.tokens')!) as { expiresAt: string };
      stored.expiresAt = new Date(Date.now() - 60_000).toISOString();
      tab.localStorage.setItem('pos-auth.tokens', JSON.stringify(stored));
      return stored.expiresAt;
    });
    for (const other of others) {
      await other.waitForFunction((expected) => (globalThis as unknown as Tab).auth.tokens?.expiresAt === expected, expiresAt);
    }
  };

  const refreshesSince = (mark: number) => origin.forwarded.slice(mark).filter((call) => call === refresh).length;

  it('loads the bundled SDK, with Web Locks, and shares the session between the tabs', async () => {
    const [a, b] = [await openTab(), await openTab()];
    expect(await a.evaluate(() => typeof (globalThis as unknown as { navigator: { locks?: unknown } }).navigator.locks)).toBe('object');
    const issued = await login(a);
    expect(await tokensIn(b)).toEqual(issued);
    expect([await me(a), await me(b)]).toEqual(['tabitha', 'tabitha']);
  });

  it('sends ONE refresh when both tabs find the access token expired at once; both end with its tokens', async () => {
    const [a, b] = [await openTab(), await openTab()];
    const issued = await login(a);
    await expireStoredToken(a, [b]);
    // Held at the page server, so that the other tab asks for its refresh while this one is in flight.
    origin.delay(refresh, 500);
    const mark = origin.forwarded.length;

    expect(await Promise.all([me(a), me(b)])).toEqual(['tabitha', 'tabitha']);

    expect(refreshesSince(mark)).toBe(1);
    expect(origin.forwarded.slice(mark).filter((call) => call === 'GET /users/me')).toHaveLength(2);
    const [inA, inB] = [await tokensIn(a), await tokensIn(b)];
    expect(inA).toEqual(inB);
    expect(inA!.refreshToken).not.toBe(issued.refreshToken);
    expect(Date.parse(inA!.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('without Web Locks, each tab refreshes (two requests), and the grace window answers both with the same tokens', async () => {
    const [a, b] = [await openTab({ locks: false }), await openTab({ locks: false })];
    await login(a);
    await expireStoredToken(a, [b]);
    origin.delay(refresh, 500);
    const mark = origin.forwarded.length;

    expect(await Promise.all([me(a), me(b)])).toEqual(['tabitha', 'tabitha']);

    expect(refreshesSince(mark)).toBe(2);
    expect(await tokensIn(a)).toEqual(await tokensIn(b));
  });

  it('a logout in one tab ends the session at the server; the other tab is told once and has no session', async () => {
    const [a, b] = [await openTab(), await openTab()];
    const issued = await login(a);
    expect(await me(b)).toBe('tabitha');

    await a.evaluate(() => (globalThis as unknown as Tab).auth.logout());

    await b.waitForFunction(() => (globalThis as unknown as Tab).ended.length > 0);
    expect(await endedIn(b)).toEqual(['ended_in_another_tab']);
    expect(await endedIn(a)).toEqual([]);
    expect(await tokensIn(b)).toBeNull();
    expect(await me(b)).toBe('refused: NOT_AUTHENTICATED');
    const atServer = await fetch(`${server.url}/users/me`, { headers: { Authorization: `Bearer ${issued.accessToken}` } });
    expect(atServer.status).toBe(401);
    expect(await endedIn(b)).toEqual(['ended_in_another_tab']);
  });

  it('a session the server ended: the tab that finds out is told refresh_refused, the other tab ended_in_another_tab, each once', async () => {
    const [a, b] = [await openTab(), await openTab()];
    await login(a);
    const sessions = await b.evaluate(() => (globalThis as unknown as Tab).auth.sessions());
    const current = sessions.find((session) => session.current)!;
    const { items } = await admin.users.list({ q: 'tabitha' });
    await admin.users.endSession(items[0]!.id, current.id);

    expect(await me(a)).toBe('refused: invalid_grant');
    await b.waitForFunction(() => (globalThis as unknown as Tab).ended.length > 0);
    expect(await endedIn(a)).toEqual(['refresh_refused']);
    expect(await endedIn(b)).toEqual(['ended_in_another_tab']);
    expect(await me(b)).toBe('refused: NOT_AUTHENTICATED');
    expect(await endedIn(b)).toEqual(['ended_in_another_tab']);
  });
});
