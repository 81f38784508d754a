/**
 * `pnpm bench`: throughput of the real pos-auth server, each figure divided by a ceiling measured
 * in the same run on the same machine (the machine is shared and noisy: absolute numbers mean
 * little, ratios travel). See bench/README.md.
 *
 * - login   (POST /auth/token, password grant)  / argon2id verifies per second (@node-rs/argon2)
 * - refresh (POST /auth/refresh-token)           / bare express POST
 * - me      (GET /users/me)                      / bare express GET
 *
 * The server, the bare express and the argon2 ceiling each run in their own child process; the load
 * generator (autocannon) runs here. Each ceiling is measured right before and right after the run
 * it divides, and the ratio uses the mean of the two.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { defaultArgon2Params } from '@pos-auth/infrastructure';
import { spawnNode, memoryOf, type Child } from './lib/children.js';
import { sampleRss, startFlood, type FloodCounts } from './lib/flood.js';
import { fixed, table } from './lib/report.js';
import { intFromEnv } from './lib/env.js';
import { libuvThreadPoolSize, type ThroughputResult } from './lib/throughput.js';
import { rootVersionOf, versionOf } from './lib/workspace.js';

// ---------------------------------------------------------------------------------------------
// Parameters (environment variables, each bounded)

const settings = {
  durationSeconds: intFromEnv('BENCH_DURATION', 8, 1, 60),
  warmupSeconds: intFromEnv('BENCH_WARMUP', 2, 0, 30),
  connections: intFromEnv('BENCH_CONNECTIONS', 16, 1, 256),
  users: intFromEnv('BENCH_USERS', 32, 1, 1000),
  /** Largest share of failed requests (non-expected status, socket error, timeout) a run may have. */
  maxFailurePercent: intFromEnv('BENCH_MAX_FAILURE_PERCENT', 1, 0, 100),
  /**
   * The service's RATE_LIMIT_IP_PER_MINUTE for the login, refresh and me runs, which all come from
   * this machine's one address: 0 (off) by default; a value above what a run sends measures the
   * cost of counting (one row, every request).
   */
  ipLimitPerMinute: intFromEnv('BENCH_RATE_LIMIT_IP_PER_MINUTE', 0, 0, 2 ** 31 - 1),
};
/** The flood beside the clean logins on the instance with the abuse limits on (bench/README.md). */
const floodSettings = {
  connections: 20,
  ips: intFromEnv('BENCH_FLOOD_IPS', 2, 1, 250),
  names: intFromEnv('BENCH_FLOOD_NAMES', 10, 1, 100_000),
  /** How long the flood has run when the measured logins start (its first seconds are reported apart). */
  onsetSeconds: intFromEnv('BENCH_FLOOD_ONSET', 10, 1, 60),
};
const baseDatabaseUrl =
  process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const threadPoolSize = libuvThreadPoolSize(process.env);
const client = { id: 'bench', secret: 'bench-secret-123' };
const basicAuth = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;
/**
 * Sessions whose refresh tokens the refresh runs rotate through (FIFO). At least 4 per connection:
 * every run strands one token per connection (the requests in flight when it stops). More sessions
 * keep each session's event stream short, as a real session's is.
 */
const refreshPoolSize = intFromEnv('BENCH_SESSIONS', Math.max(settings.connections * 4, 1024), settings.connections * 4, 20_000);
const meTokenCount = Math.min(16, settings.users);

// ---------------------------------------------------------------------------------------------
// Clean-up: children and the database go away on success, failure and Ctrl-C.

const cleanups: Array<{ name: string; run: () => Promise<void> }> = [];
let cleaning: Promise<void> | undefined;

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });

const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await withTimeout(cleanup.run(), 20_000, cleanup.name);
      } catch (error) {
        console.error(`clean-up of ${cleanup.name} failed:`, error instanceof Error ? error.message : error);
      }
    }
  })());

let activeLoad: autocannon.Instance | undefined;
/** Set by Ctrl-C: nothing new starts, and the server's complaints about its clients vanishing are not echoed. */
let interrupted = false;
const assertNotInterrupted = () => {
  if (interrupted) throw new Error('interrupted');
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: a Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
  // and the default action of the second would kill it before the database is dropped.
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the children and dropping the bench database...`);
    activeLoad?.stop();
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Database

const databaseName = `pos_auth_bench_${randomBytes(6).toString('hex')}`;

const adminQuery = async (sql: string): Promise<pg.QueryResult> => {
  const admin = new pg.Client({ connectionString: baseDatabaseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    return await admin.query(sql);
  } finally {
    await admin.end();
  }
};

const createBenchDatabase = async (): Promise<{ url: string; serverVersion: string }> => {
  const version = await adminQuery('SHOW server_version');
  // The name is ours (hex), so quoting it as an identifier is enough.
  // Registered before it exists, so an interrupt during CREATE still drops it (IF EXISTS makes that safe).
  cleanups.push({ name: `database ${databaseName}`, run: async () => void (await adminQuery(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`)) });
  await adminQuery(`CREATE DATABASE "${databaseName}"`);
  const url = new URL(baseDatabaseUrl);
  url.pathname = `/${databaseName}`;
  return { url: url.toString(), serverVersion: String((version.rows[0] as { server_version?: unknown } | undefined)?.server_version) };
};

// ---------------------------------------------------------------------------------------------
// Children

const startService = async (databaseUrl: string, env: Record<string, string>, name = 'pos-auth'): Promise<{ child: Child; url: string }> => {
  assertNotInterrupted();
  const child = spawnNode(name, ['packages/http/bin/pos-auth.js', 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_CLIENTS: `${client.id}:${client.secret}`,
      LOG_LEVEL: 'info',
      ...env,
    },
    onLine: (line) => {
      // pino levels: 40 warn, 50 error, 60 fatal. Those are worth seeing while the bench runs.
      if (!interrupted && /"level":(4|5|6)\d/.test(line)) process.stderr.write(`[${name}] ${line}\n`);
    },
  });
  cleanups.push({ name: `${name} server`, run: () => child.stop() });
  const url = await child.waitForLine(
    (line) => (line['msg'] === 'pos-auth listening' && typeof line['url'] === 'string' ? line['url'] : undefined),
    90_000,
  );
  await waitForReady(`${url}/health/ready`, 30_000);
  return { child, url };
};

const waitForReady = async (url: string, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 300 && Date.now() < deadline; attempt += 1) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
};

const startBareExpress = async (): Promise<{ child: Child; url: string }> => {
  assertNotInterrupted();
  const child = spawnNode('bare-express', ['--import', 'tsx', 'bench/bare-express.ts']);
  cleanups.push({ name: 'bare express', run: () => child.stop() });
  const url = await child.waitForLine((line) => (typeof line['url'] === 'string' ? line['url'] : undefined), 60_000);
  return { child, url };
};

const measureArgon2Ceiling = async (): Promise<ThroughputResult> => {
  assertNotInterrupted();
  const input = { params: defaultArgon2Params, concurrency: threadPoolSize, durationMs: settings.durationSeconds * 1000 };
  const child = spawnNode('argon2-ceiling', ['--import', 'tsx', 'bench/argon2-ceiling.ts', JSON.stringify(input)]);
  const cleanup = { name: 'argon2 ceiling', run: () => child.stop() };
  cleanups.push(cleanup);
  try {
    return await child.waitForLine(
      (line) => (typeof line['opsPerSecond'] === 'number' ? (line as unknown as ThroughputResult) : undefined),
      settings.durationSeconds * 1000 + 60_000,
    );
  } finally {
    await child.stop();
    cleanups.splice(cleanups.indexOf(cleanup), 1);
  }
};

// ---------------------------------------------------------------------------------------------
// Set-up through the public API

const postJson = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Runs `work` over `items` with at most `limit` at a time. */
const mapLimited = async <T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
};

interface BenchUser {
  readonly userName: string;
  readonly password: string;
}

const benchUsers: BenchUser[] = Array.from({ length: settings.users }, (_, i) => ({
  userName: `bench_user_${i}`,
  password: `bench-password-${i}-xyz`,
}));

const login = async (baseUrl: string, user: BenchUser) => {
  const { status, body } = await postJson(
    `${baseUrl}/auth/token`,
    { grant_type: 'password', user_name: user.userName, password: user.password },
    { authorization: basicAuth },
  );
  if (status !== 201 || typeof body['access_token'] !== 'string' || typeof body['refresh_token'] !== 'string') {
    throw new Error(`set-up login of ${user.userName} answered ${status}: ${JSON.stringify(body)}`);
  }
  return { accessToken: body['access_token'], refreshToken: body['refresh_token'] };
};

const prepareData = async (baseUrl: string) => {
  await mapLimited(benchUsers, threadPoolSize, async (user) => {
    const { status, body } = await postJson(`${baseUrl}/users`, { user_name: user.userName, password: user.password });
    if (status !== 201) throw new Error(`set-up registration of ${user.userName} answered ${status}: ${JSON.stringify(body)}`);
  });
  const sessions = await mapLimited(
    Array.from({ length: refreshPoolSize + meTokenCount }, (_, i) => benchUsers[i % benchUsers.length] as BenchUser),
    threadPoolSize,
    (user) => login(baseUrl, user),
  );
  return {
    refreshTokens: sessions.slice(0, refreshPoolSize).map((s) => s.refreshToken),
    accessTokens: sessions.slice(refreshPoolSize).map((s) => s.accessToken),
  };
};

// ---------------------------------------------------------------------------------------------
// Load runs

interface LoadResult {
  readonly name: string;
  /** Responses with the expected status. */
  readonly ok: number;
  readonly responses: number;
  readonly non2xx: number;
  readonly unexpected: number;
  readonly status5xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
  /** Expected-status responses per second: failures never count. */
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statusCodes: Record<string, number>;
}

const runLoad = async (
  name: string,
  url: string,
  requests: autocannon.Request[],
  expectedStatus: number,
  durationSeconds: number,
): Promise<LoadResult> => {
  assertNotInterrupted();
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      { url, connections: settings.connections, duration: durationSeconds, pipelining: 1, timeout: 10, requests },
      (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
  });
  activeLoad = instance;
  const result = await withTimeout(finished, (durationSeconds + 30) * 1000, `autocannon ${name}`);
  activeLoad = undefined;
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count = 0 }]) => [code, count]),
  );
  const responses = Object.values(statusCodes).reduce((sum, count) => sum + count, 0);
  const ok = statusCodes[String(expectedStatus)] ?? 0;
  return {
    name,
    ok,
    responses,
    non2xx: result.non2xx,
    unexpected: responses - ok,
    status5xx: result['5xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    perSecond: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statusCodes,
  };
};

/** What is wrong with a run, if anything: nothing that failed may pass for a figure. */
const problemsOf = (run: LoadResult): string[] => {
  const problems: string[] = [];
  const attempts = run.responses + run.errors;
  const failures = run.unexpected + run.errors;
  if (run.ok === 0) problems.push(`${run.name}: no successful response`);
  if (run.status5xx > 0) problems.push(`${run.name}: ${run.status5xx} responses with a 5xx status`);
  if (attempts > 0 && (failures / attempts) * 100 > settings.maxFailurePercent) {
    problems.push(
      `${run.name}: ${failures} of ${attempts} requests failed (statuses ${JSON.stringify(run.statusCodes)}, ` +
        `${run.errors} socket errors, ${run.timeouts} timeouts); at most ${settings.maxFailurePercent}% may`,
    );
  }
  return problems;
};

// ---------------------------------------------------------------------------------------------
// Report

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
/** How far apart the two measurements of one ceiling were, relative to their mean. */
const spread = (values: readonly number[]) => (Math.max(...values) - Math.min(...values)) / mean(values);
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

// ---------------------------------------------------------------------------------------------

const main = async (): Promise<number> => {
  const cpus = os.cpus();
  console.log('pos-auth benchmark: every figure is divided by a ceiling measured in this run\n');
  console.log(
    `machine     ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${fixed(os.totalmem() / 2 ** 30, 1)} GiB, ` +
      `${os.platform()} ${os.release()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(`node        ${process.version}; libuv thread pool ${threadPoolSize}`);
  console.log(
    `load        autocannon ${rootVersionOf('autocannon')}, ${settings.connections} connections, ` +
      `pipelining 1, ${settings.durationSeconds} s per run after ${settings.warmupSeconds} s warm-up per endpoint`,
  );
  console.log(
    `argon2id    m=${defaultArgon2Params.memoryCost} KiB, t=${defaultArgon2Params.timeCost}, p=${defaultArgon2Params.parallelism} ` +
      `(@node-rs/argon2 ${versionOf('infrastructure', '@node-rs/argon2')}), ceiling at ${threadPoolSize} verifies in flight`,
  );
  console.log(`express     ${versionOf('http', 'express')} (service and bare ceiling)`);
  console.log(`per-IP      RATE_LIMIT_IP_PER_MINUTE=${settings.ipLimitPerMinute} for the login, refresh and me runs${settings.ipLimitPerMinute === 0 ? ' (off)' : ''}`);
  console.log(`data        ${settings.users} users, ${refreshPoolSize} sessions for refresh, ${meTokenCount} access tokens for /users/me`);

  assertNotInterrupted();
  const database = await createBenchDatabase();
  console.log(`database    PostgreSQL ${database.serverVersion}, fresh database ${databaseName}`);

  const service = await startService(database.url, { RATE_LIMIT_IP_PER_MINUTE: String(settings.ipLimitPerMinute) });
  const bare = await startBareExpress();
  console.log(`children    pos-auth pid ${service.child.pid} at ${service.url}; bare express pid ${bare.child.pid} at ${bare.url}\n`);

  process.stdout.write('set-up: registering users and opening sessions... ');
  const data = await prepareData(service.url);
  console.log('done');

  // Requests. Per-request data comes from closures: autocannon clones its options per connection
  // but keeps functions by reference, so the refresh-token pool below is shared by all connections.
  let loginIndex = 0;
  const loginBodies = benchUsers.map((user) =>
    JSON.stringify({ grant_type: 'password', user_name: user.userName, password: user.password }),
  );
  const loginRequests: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/auth/token',
      headers: { 'content-type': 'application/json', authorization: basicAuth },
      setupRequest: (request) => ({ ...request, body: loginBodies[loginIndex++ % loginBodies.length] ?? '' }),
    },
  ];

  // Each refresh spends its token and answers a new one, which goes back into the pool. With
  // pipelining 1 a connection asks for its next token only after its previous response, so a pool
  // of at least `connections` never runs dry unless requests fail; if it does, the request goes out
  // with a token the server cannot know and is counted as the failure it is.
  const refreshPool = [...data.refreshTokens];
  let refreshPoolMisses = 0;
  const refreshRequests: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/auth/refresh-token',
      setupRequest: (request) => {
        const token = refreshPool.shift();
        if (token === undefined) refreshPoolMisses += 1;
        return { ...request, headers: { ...request.headers, authorization: `Bearer ${token ?? 'bench-refresh-pool-ran-dry'}` } };
      },
      onResponse: (status, body) => {
        if (status !== 201) return;
        try {
          const token = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
          if (typeof token === 'string') refreshPool.push(token);
        } catch {
          // counted as a 201 by autocannon, but without a token the pool shrinks and later requests fail
        }
      },
    },
  ];

  let meIndex = 0;
  const meRequests: autocannon.Request[] = [
    {
      method: 'GET',
      path: '/users/me',
      setupRequest: (request) => ({
        ...request,
        headers: { ...request.headers, authorization: `Bearer ${data.accessTokens[meIndex++ % data.accessTokens.length] ?? ''}` },
      }),
    },
  ];

  const barePostRequests: autocannon.Request[] = [
    { method: 'POST', path: '/post', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"refresh_token"}' },
  ];
  const bareGetRequests: autocannon.Request[] = [{ method: 'GET', path: '/get' }];

  const problems: string[] = [];
  const d = settings.durationSeconds;

  if (settings.warmupSeconds > 0) {
    process.stdout.write('warm-up: ');
    for (const [name, url, requests, status] of [
      ['login', service.url, loginRequests, 201],
      ['refresh', service.url, refreshRequests, 201],
      ['me', service.url, meRequests, 200],
      ['bare POST', bare.url, barePostRequests, 201],
      ['bare GET', bare.url, bareGetRequests, 200],
    ] as const) {
      process.stdout.write(`${name}... `);
      problems.push(...problemsOf(await runLoad(`warm-up ${name}`, url, [...requests], status, settings.warmupSeconds)));
    }
    console.log('done');
  }

  const step = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    assertNotInterrupted();
    process.stdout.write(`measuring ${label}... `);
    const result = await work();
    if (!interrupted) console.log('done');
    return result;
  };

  // Each ceiling brackets the run it divides, so drift in the machine's load shows as spread.
  const argon2Before = await step('argon2id verify ceiling (1/2)', measureArgon2Ceiling);
  const loginRun = await step('login', () => runLoad('login', service.url, loginRequests, 201, d));
  const argon2After = await step('argon2id verify ceiling (2/2)', measureArgon2Ceiling);
  const postBefore = await step('bare express POST (1/2)', () => runLoad('bare POST', bare.url, barePostRequests, 201, d));
  const refreshRun = await step('refresh', () => runLoad('refresh', service.url, refreshRequests, 201, d));
  const postAfter = await step('bare express POST (2/2)', () => runLoad('bare POST', bare.url, barePostRequests, 201, d));
  const getBefore = await step('bare express GET (1/2)', () => runLoad('bare GET', bare.url, bareGetRequests, 200, d));
  const meRun = await step('me', () => runLoad('me', service.url, meRequests, 200, d));
  const getAfter = await step('bare express GET (2/2)', () => runLoad('bare GET', bare.url, bareGetRequests, 200, d));

  const memory = memoryOf(service.child.pid);
  if (service.child.process.exitCode !== null || service.child.process.signalCode !== null) {
    problems.push(`the pos-auth server exited during the run:\n${service.child.recentOutput.join('\n')}`);
  }

  for (const run of [loginRun, refreshRun, meRun, postBefore, postAfter, getBefore, getAfter]) problems.push(...problemsOf(run));
  for (const ceiling of [argon2Before, argon2After]) {
    if (ceiling.ok === 0 || ceiling.failed > 0) problems.push(`argon2 ceiling: ${ceiling.failed} verifies failed, ${ceiling.ok} succeeded`);
  }
  if (refreshPoolMisses > 0) problems.push(`refresh: the token pool ran dry ${refreshPoolMisses} times`);

  // Logins under a flood (issue 6; bench/README.md says what the flood is and why): a second
  // instance on the same database with the abuse limits as shipped (600 requests per IP per minute,
  // back-off after 5 failures per user name) and TRUST_PROXY=loopback, so that X-Forwarded-For
  // stands for the client's address. Clean logins come from 256 addresses; the flood from a few
  // others, over a few unknown user names, at twice the argon2id ceiling.
  const limited = await startService(database.url, { TRUST_PROXY: 'loopback' }, 'pos-auth-limits');
  const cleanIps = Array.from({ length: 256 }, (_, i) => `198.51.100.${i}`);
  let cleanIndex = 0;
  const cleanLoginRequests: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/auth/token',
      headers: { 'content-type': 'application/json', authorization: basicAuth },
      setupRequest: (request) => {
        const i = cleanIndex++;
        return { ...request, headers: { ...request.headers, 'x-forwarded-for': cleanIps[i % cleanIps.length] ?? '' }, body: loginBodies[i % loginBodies.length] ?? '' };
      },
    },
  ];
  const floodRate = Math.round(2 * mean([argon2Before.opsPerSecond, argon2After.opsPerSecond]));
  if (settings.warmupSeconds > 0) {
    await step('login, limits on (warm-up)', async () =>
      problems.push(...problemsOf(await runLoad('warm-up login (limits on)', limited.url, cleanLoginRequests, 201, settings.warmupSeconds))),
    );
  }
  const cleanBefore = await step('login, limits on, no flood (1/2)', () => runLoad('login (limits on) 1/2', limited.url, cleanLoginRequests, 201, d));
  const { floodOnset, underFlood, floodOnsetCounts, floodMeasured, floodRssPeakMiB } = await step(
    `login under a flood of ${floodRate}/s from ${floodSettings.ips} addresses over ${floodSettings.names} unknown names`,
    async () => {
      const rss = sampleRss(limited.child.pid);
      const flood = startFlood({
        url: limited.url,
        connections: floodSettings.connections,
        overallRate: floodRate,
        basicAuth,
        ips: Array.from({ length: floodSettings.ips }, (_, i) => `203.0.113.${i + 1}`),
        userNames: Array.from({ length: floodSettings.names }, (_, i) => `flood_nobody_${i}`),
      });
      try {
        // Clean logins run throughout: over the flood's first seconds (reported apart), then measured.
        const onset = await runLoad('login at the onset of the flood', limited.url, cleanLoginRequests, 201, floodSettings.onsetSeconds);
        const onsetCounts = flood.nextPhase();
        const run = await runLoad('login under flood', limited.url, cleanLoginRequests, 201, d);
        return { floodOnset: onset, underFlood: run, floodOnsetCounts: onsetCounts, floodMeasured: await flood.stop(), floodRssPeakMiB: rss.stop() };
      } catch (error) {
        await flood.stop().catch(() => undefined);
        rss.stop();
        throw error;
      }
    },
  );
  const cleanAfter = await step('login, limits on, no flood (2/2)', () => runLoad('login (limits on) 2/2', limited.url, cleanLoginRequests, 201, d));
  const limitedMemory = memoryOf(limited.child.pid);
  if (limited.child.process.exitCode !== null || limited.child.process.signalCode !== null) {
    problems.push(`the pos-auth server with limits exited during the run:\n${limited.child.recentOutput.join('\n')}`);
  }
  for (const run of [cleanBefore, floodOnset, underFlood, cleanAfter]) problems.push(...problemsOf(run));
  const cleanLogin = mean([cleanBefore.perSecond, cleanAfter.perSecond]);
  const floodRatio = underFlood.perSecond / cleanLogin;
  if (floodRatio < 0.9) problems.push(`login under flood: ${fixed(floodRatio, 3)} of the clean login rate; the target is at least 0.9`);
  if (!(floodRssPeakMiB < 300)) problems.push(`login under flood: the server's RSS reached ${fixed(floodRssPeakMiB, 1)} MiB; the target is under 300 MiB`);
  if (floodMeasured.unavailable503 + floodMeasured.other > 0) {
    problems.push(`flood: ${floodMeasured.unavailable503} answers 503 and ${floodMeasured.other} other answers or socket errors`);
  }

  const argon2Ceiling = mean([argon2Before.opsPerSecond, argon2After.opsPerSecond]);
  const postCeiling = mean([postBefore.perSecond, postAfter.perSecond]);
  const getCeiling = mean([getBefore.perSecond, getAfter.perSecond]);

  const loadRow = (label: string, run: LoadResult, ratio: string): string[] => [
    label,
    fixed(run.perSecond),
    fixed(run.p50Ms),
    fixed(run.p99Ms),
    String(run.ok),
    String(run.non2xx),
    String(run.errors),
    ratio,
  ];
  const argon2Row = (label: string, run: ThroughputResult): string[] => [
    label,
    fixed(run.opsPerSecond),
    fixed(run.p50Ms, 1),
    '',
    String(run.ok),
    '',
    String(run.failed),
    '',
  ];

  console.log('');
  console.log(
    table(
      ['run', 'ok/s', 'p50 ms', 'p99 ms', 'ok', 'non-2xx', 'errors', 'ratio to ceiling'],
      [
        argon2Row('ceiling: argon2id verify (1/2)', argon2Before),
        loadRow('POST /auth/token (login)', loginRun, `${fixed(loginRun.perSecond / argon2Ceiling, 3)} of argon2id verify`),
        argon2Row('ceiling: argon2id verify (2/2)', argon2After),
        loadRow('ceiling: bare express POST (1/2)', postBefore, ''),
        loadRow('POST /auth/refresh-token', refreshRun, `${fixed(refreshRun.perSecond / postCeiling, 3)} of bare POST`),
        loadRow('ceiling: bare express POST (2/2)', postAfter, ''),
        loadRow('ceiling: bare express GET (1/2)', getBefore, ''),
        loadRow('GET /users/me', meRun, `${fixed(meRun.perSecond / getCeiling, 3)} of bare GET`),
        loadRow('ceiling: bare express GET (2/2)', getAfter, ''),
      ],
    ),
  );
  console.log('');
  console.log(
    table(
      ['ratio', 'value', 'ceiling (mean of 2)', 'ceiling spread'],
      [
        ['login / argon2id verify', fixed(loginRun.perSecond / argon2Ceiling, 3), `${fixed(argon2Ceiling, 1)}/s`, percent(spread([argon2Before.opsPerSecond, argon2After.opsPerSecond]))],
        ['refresh / bare express POST', fixed(refreshRun.perSecond / postCeiling, 3), `${fixed(postCeiling)}/s`, percent(spread([postBefore.perSecond, postAfter.perSecond]))],
        ['me / bare express GET', fixed(meRun.perSecond / getCeiling, 3), `${fixed(getCeiling)}/s`, percent(spread([getBefore.perSecond, getAfter.perSecond]))],
      ],
    ),
  );
  console.log('');
  console.log(
    `pos-auth server memory: peak RSS (VmHWM) ${fixed(memory.peakRssMiB ?? Number.NaN, 1)} MiB, ` +
      `RSS after the runs (VmRSS) ${fixed(memory.rssMiB ?? Number.NaN, 1)} MiB`,
  );
  console.log(
    `refresh: ${refreshRun.ok} rotations over ${refreshPoolSize} sessions in the measured run, about ` +
      `${fixed(refreshRun.ok / refreshPoolSize, 1)} per session (each appends to its session's stream; set BENCH_SESSIONS to vary)`,
  );
  console.log('');
  console.log(
    table(
      ['login, abuse limits on', 'ok/s', 'p50 ms', 'p99 ms', 'ok', 'non-2xx', 'errors', 'ratio'],
      [
        loadRow('clean (1/2)', cleanBefore, ''),
        loadRow(`flood onset (its first ${floodSettings.onsetSeconds} s)`, floodOnset, `${fixed(floodOnset.perSecond / cleanLogin, 3)} of clean`),
        loadRow(`under the flood (${floodSettings.connections} connections)`, underFlood, `${fixed(floodRatio, 3)} of clean (target >= 0.9)`),
        loadRow('clean (2/2)', cleanAfter, ''),
      ],
    ),
  );
  const floodRow = (label: string, counts: FloodCounts, seconds: number): string[] => [
    label,
    fixed(Object.values(counts).reduce((sum, count) => sum + count, 0) / seconds),
    String(counts.checked),
    String(counts.perName429),
    String(counts.perIp429),
    String(counts.unavailable503),
    String(counts.other),
  ];
  console.log('');
  console.log(
    table(
      ['flood answers', 'req/s', '400 checked', '429 per name', '429 per IP', '503', 'other'],
      [floodRow(`onset (first ${floodSettings.onsetSeconds} s)`, floodOnsetCounts, floodOnset.seconds), floodRow('beside the measured logins', floodMeasured, underFlood.seconds)],
    ),
  );
  console.log(
    `flood: wrong passwords for ${floodSettings.names} unknown user names from ${floodSettings.ips} addresses, ${floodSettings.connections} ` +
      `connections, at most ${floodRate}/s (twice the argon2id ceiling); clean logins from 256 other addresses; ` +
      `the two clean runs ${percent(spread([cleanBefore.perSecond, cleanAfter.perSecond]))} apart`,
  );
  console.log(
    `pos-auth server with limits: peak RSS sampled during the flood ${fixed(floodRssPeakMiB, 1)} MiB (target < 300), ` +
      `peak RSS over its life (VmHWM) ${fixed(limitedMemory.peakRssMiB ?? Number.NaN, 1)} MiB`,
  );
  console.log('ok/s counts only the expected status (201 for the token endpoints, 200 for GET); failures never count.');
  console.log('HTTP latencies are autocannon\'s, in whole milliseconds; argon2 p50 is the median time of one verify.');

  if (problems.length > 0) {
    console.error('\nFAILED: the figures above are not valid:');
    for (const problem of problems) console.error(`  - ${problem}`);
    return 1;
  }
  return 0;
};

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  if (!interrupted) console.error('\nbench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  exitCode = 1;
} finally {
  await cleanUp();
}
process.exit(interrupted ? 130 : exitCode);
