/**
 * A real browser for the tests: Debian's Chromium driven by playwright-core, pages served on a
 * loopback origin that also forwards every other request to pos-auth (so a page calls the API on
 * its own origin, no CORS involved) and counts what reaches it, and the SDK bundled for that page
 * from its published build. The test run's global setup installs Chromium when it is missing
 * (`ensureChromium`) and hands the result to the tests as `inject('chromium')`.
 *
 * A browser test reads, in short:
 *
 *   const chromium = inject('chromium');
 *   describe.skipIf(chromium.skipReason !== null)(`... ${skipNote(chromium)}`, () => {
 *     const origin = await startPageServer({ upstream: server.url, files: { '/': sdkPage(), '/pos-auth-sdk.js': await sdkBundle() } });
 *     const browser = await launchChromium(chromium.executablePath!);
 *     const page = await openSdkPage(browser, origin.url);
 *     ...
 */
import { execFile } from 'node:child_process';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium as playwright, type BrowserContext, type Page } from 'playwright-core';

/** Where the tests find Chromium, or why they cannot (they are then skipped, saying so). */
export interface ChromiumAvailability {
  readonly executablePath: string | null;
  readonly skipReason: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by the global setup (`ensureChromium`). */
    chromium: ChromiumAvailability;
  }
}

/** Debian's package puts it here. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * The flags this machine needs: no sandbox (the tests run as root), no GPU, and none of the
 * background connections to Google's hosts that a closed network refuses, many at a time.
 */
export const chromiumArgs = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

const run = promisify(execFile);

const isExecutable = (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

/**
 * Makes sure Debian's Chromium is installed: as root, `apt-get install -y --no-install-recommends
 * chromium` when it is missing (after an `apt-get update` if the first try fails, as on a fresh
 * machine whose package lists are empty). Anything that stops it is said in `skipReason`, and
 * the browser tests are then skipped, not failed: a machine without Debian's archive, or not run
 * as root, can still run the rest.
 *
 * @example
 * const chromium = await ensureChromium((line) => console.log(line));
 * if (chromium.skipReason !== null) console.log(`browser tests skipped: ${chromium.skipReason}`);
 */
export const ensureChromium = async (log: (line: string) => void): Promise<ChromiumAvailability> => {
  if (await isExecutable(chromiumPath)) return { executablePath: chromiumPath, skipReason: null };
  if (process.getuid?.() !== 0) return { executablePath: null, skipReason: `${chromiumPath} is missing and only root may install it` };
  if (!(await isExecutable('/usr/bin/apt-get'))) return { executablePath: null, skipReason: `${chromiumPath} is missing and there is no apt-get to install it` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  log('installing Debian chromium for the browser tests (apt-get install chromium)...');
  try {
    await install().catch(async () => {
      await run('apt-get', ['update'], { env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
      await install();
    });
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    return { executablePath: null, skipReason: `apt-get could not install chromium: ${stderr.trim().split('\n').at(-1) ?? String(error)}` };
  }
  if (!(await isExecutable(chromiumPath))) return { executablePath: null, skipReason: `apt-get installed chromium but ${chromiumPath} is missing` };
  log(`installed ${chromiumPath}`);
  return { executablePath: chromiumPath, skipReason: null };
};

/**
 * What a browser describe block's name says when it is skipped: the reason, else nothing.
 *
 * @example
 * describe.skipIf(chromium.skipReason !== null)(`the admin console ${skipNote(chromium)}`, () => { ... });
 */
export const skipNote = (availability: ChromiumAvailability): string =>
  availability.skipReason === null ? '' : `(skipped: ${availability.skipReason})`;

export interface LaunchedChromium {
  /** One browser profile: its pages (tabs) share one origin's `localStorage`, Web Locks and `storage` events. */
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with `chromiumArgs` on a fresh profile (a new `--user-data-dir` in the
 * temporary directory, removed by `close`).
 *
 * @example
 * const browser = await launchChromium(inject('chromium').executablePath!);
 * const [tabA, tabB] = [await browser.context.newPage(), await browser.context.newPage()];
 * await browser.close();
 */
export const launchChromium = async (executablePath: string): Promise<LaunchedChromium> => {
  const userDataDir = await mkdtemp(join(tmpdir(), 'pos-auth-chromium-'));
  const context = await playwright.launchPersistentContext(userDataDir, { executablePath, headless: true, args: [...chromiumArgs] });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
};

const sdkEntry = fileURLToPath(new URL('../packages/sdk/dist/index.js', import.meta.url));

/**
 * The SDK as a browser app gets it: its published build (`packages/sdk/dist`, which the global
 * setup builds) bundled with its dependencies (zod, @trpc/client) into one ES module. Building
 * for the browser platform fails on any Node built-in the SDK would import.
 *
 * @example
 * const files = { '/': sdkPage(), '/pos-auth-sdk.js': await sdkBundle() };
 */
export const sdkBundle = async (): Promise<PageFile> => {
  const result = await build({ entryPoints: [sdkEntry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  return { contentType: 'text/javascript; charset=utf-8', body: result.outputFiles[0]!.text };
};

/**
 * An HTML page that loads the bundled SDK (served at `/pos-auth-sdk.js`) as
 * `globalThis.posAuthSdk`, and nothing else: the test drives it with `page.evaluate`.
 *
 * @example
 * const origin = await startPageServer({ upstream: server.url, files: { '/': sdkPage(), '/pos-auth-sdk.js': await sdkBundle() } });
 */
export const sdkPage = (): PageFile => ({
  contentType: 'text/html; charset=utf-8',
  body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pos-auth SDK test page</title>
<script type="module">
import * as sdk from '/pos-auth-sdk.js';
globalThis.posAuthSdk = sdk;
</script></head><body></body></html>`,
});

/**
 * Opens a tab on `url` (a page made by `sdkPage`) and waits until the SDK has loaded there.
 *
 * @example
 * const tab = await openSdkPage(browser, origin.url);
 * await tab.evaluate(() => typeof (globalThis as { posAuthSdk?: unknown }).posAuthSdk); // 'object'
 */
export const openSdkPage = async (browser: LaunchedChromium, url: string): Promise<Page> => {
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'posAuthSdk' in globalThis);
  return page;
};

export interface PageFile {
  readonly contentType: string;
  readonly body: string;
}

export interface PageServer {
  /** `http://127.0.0.1:<port>`: the pages' origin, and pos-auth's through the forwarding. */
  readonly url: string;
  /** Every request forwarded to pos-auth, as `METHOD /path`, in arrival order. */
  readonly forwarded: string[];
  /** Holds every forwarded `METHOD /path` request for `ms` before sending it on (0: no more). */
  delay(call: string, ms: number): void;
  close(): Promise<void>;
}

/**
 * An HTTP server on loopback that serves `files` by path and forwards every other request to
 * `upstream`, counting them: the page and pos-auth then share one origin, as behind the reverse
 * proxy of a deployment. A test may `delay` a kind of request, to hold it in flight while
 * something else happens.
 *
 * @example
 * const origin = await startPageServer({ upstream: server.url, files: { '/': sdkPage(), '/pos-auth-sdk.js': await sdkBundle() } });
 * origin.forwarded.filter((call) => call === 'POST /auth/refresh-token').length;
 */
export const startPageServer = async (options: { readonly upstream: string; readonly files: Readonly<Record<string, PageFile>> }): Promise<PageServer> => {
  const forwarded: string[] = [];
  const delays = new Map<string, number>();
  const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
    const path = new URL(incoming.url ?? '/', 'http://page').pathname;
    const file = incoming.method === 'GET' ? options.files[path] : undefined;
    if (file !== undefined) {
      outgoing.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store' }).end(file.body);
      return;
    }
    const call = `${incoming.method} ${path}`;
    forwarded.push(call);
    const target = new URL(incoming.url ?? '/', options.upstream);
    setTimeout(() => {
      const upstream = request(target, { method: incoming.method, headers: { ...incoming.headers, host: target.host } }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.on('error', () => outgoing.writeHead(502).end());
      incoming.pipe(upstream);
    }, delays.get(call) ?? 0);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    delay: (call, ms) => void delays.set(call, ms),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
