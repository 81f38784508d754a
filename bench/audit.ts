/**
 * `pnpm bench:audit`: the audit trail at scale (bench/README.md). Seeds a log of BENCH_AUDIT_EVENTS
 * events (default 1,000,000) spread over six months into a fresh database, rebuilds the
 * projections from it, then measures audit queries (latency percentiles of the first page, as the
 * API reads it: query, keys and decryption, without HTTP), the hash-chain walk of `audit verify`,
 * and the rebuild's throughput.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { auditPageLimits, readAuditEvents, type AuditQuery, type AuthDeps } from '@pos-auth/domain';
import { createHmacPseudonymizer, createPool, createPosAuthPersistence, migrate, rebuildProjections, verifyEventLog } from '@pos-auth/infrastructure';
import { seedEventLog, type SeedSummary } from '@pos-auth/infrastructure/testing';
import { intFromEnv } from './lib/env.js';
import { fixed, table } from './lib/report.js';

const settings = {
  events: intFromEnv('BENCH_AUDIT_EVENTS', 1_000_000, 10_000, 20_000_000),
  samples: intFromEnv('BENCH_AUDIT_SAMPLES', 300, 10, 10_000),
};
const baseDatabaseUrl =
  process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** An existing database seeded by an earlier run (kept with BENCH_AUDIT_KEEP=1): skips the seeding. */
const reuse = process.env['BENCH_AUDIT_DATABASE'];
const keep = process.env['BENCH_AUDIT_KEEP'] === '1';
const from = new Date('2026-05-01T00:00:00Z');
const to = new Date('2026-11-01T00:00:00Z');

const databaseUrl = (name: string) => {
  const url = new URL(baseDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: baseDatabaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

const seconds = (ms: number) => `${fixed(ms / 1000, 1)} s`;

const main = async () => {
  const name = reuse ?? `pos_auth_bench_audit_${randomBytes(4).toString('hex')}`;
  if (reuse === undefined) await admin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const pool = createPool(databaseUrl(name), { max: 4 });
  const stopping = async () => {
    await pool.end();
    if (reuse === undefined && !keep) await admin((client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
  };
  process.once('SIGINT', () => void stopping().finally(() => process.exit(130)));
  try {
    await migrate(pool);
    let seeded: SeedSummary | null = null;
    let seedMs = NaN;
    if (reuse === undefined) {
      console.log(`seeding ${settings.events.toLocaleString('en')} events into ${name} ...`);
      const started = performance.now();
      seeded = await seedEventLog(pool, { events: settings.events, from, to, onProgress: (n) => process.stdout.write(`\r  ${n.toLocaleString('en')} events`) });
      seedMs = performance.now() - started;
      process.stdout.write('\n');
    }
    const persistence = await createPosAuthPersistence(pool);
    const eventCount = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]!.n);

    console.log('rebuilding the projections from the log ...');
    const rebuildStarted = performance.now();
    const rebuilt = await rebuildProjections(pool, persistence.eventStore);
    const rebuildMs = performance.now() - rebuildStarted;
    const targets = seeded ?? (await summaryOf(pool));

    // What autovacuum does to an append-only table after enough inserts: index-only scans need it.
    await pool.query('VACUUM (ANALYZE) events');

    console.log('measuring audit queries ...');
    const deps: Pick<AuthDeps, 'auditLog' | 'pseudonymizer'> = {
      auditLog: persistence.auditLog,
      pseudonymizer: createHmacPseudonymizer(persistence.serviceKeys.userNameHmac),
    };
    const pick = <T>(items: readonly T[], skew = 1) => items[Math.floor(items.length * Math.random() ** skew)]!;
    const last = (days: number) => ({ from: new Date(to.getTime() - days * 86_400_000), to });
    const kinds: { name: string; query: () => AuditQuery }[] = [
      { name: 'by user (user_id)', query: () => ({ userId: pick(targets.users, 2).userId as never }) },
      { name: 'by type + time range: LoginFailed, last day', query: () => ({ types: ['LoginFailed'], ...last(1) }) },
      { name: 'by type + time range: LoginFailed, last 7 days', query: () => ({ types: ['LoginFailed'], ...last(7) }) },
      { name: 'by type + time range: LoginFailed, last 30 days', query: () => ({ types: ['LoginFailed'], ...last(30) }) },
      { name: 'by user name (an account)', query: () => ({ userName: pick(targets.users, 2).userName }) },
      { name: 'by user name (nobody\'s, attacked)', query: () => ({ userName: pick(targets.unknownNames, 3) }) },
      { name: 'by user + type + time range', query: () => ({ userId: pick(targets.users, 2).userId as never, types: ['TokenIssued'], ...last(30) }) },
      { name: 'by session', query: () => ({ sessionId: pick(targets.sessionIds) as never }) },
      { name: 'by ip', query: () => ({ ip: pick(targets.ips) }) },
      { name: 'by client (rarest)', query: () => ({ clientId: targets.clientIds.at(-1)! }) },
      { name: 'by time range alone, last day', query: () => last(1) },
      { name: 'all types, newest first page after a cursor', query: () => ({}) },
    ];
    const rows: string[][] = [];
    for (const kind of kinds) {
      for (let warm = 0; warm < 10; warm += 1) await readAuditEvents(deps, kind.query());
      const latencies: number[] = [];
      let items = 0;
      for (let sample = 0; sample < settings.samples; sample += 1) {
        const query = kind.query();
        const started = performance.now();
        const page = await readAuditEvents(deps, { ...query, limit: auditPageLimits.default });
        latencies.push(performance.now() - started);
        items += page.items.length;
      }
      latencies.sort((a, b) => a - b);
      rows.push([kind.name, fixed(percentile(latencies, 50), 1), fixed(percentile(latencies, 99), 1), fixed(latencies.at(-1)!, 1), fixed(items / settings.samples, 0)]);
    }

    console.log('verifying the hash chains ...');
    const verifyStarted = performance.now();
    const verified = await verifyEventLog(pool);
    const verifyMs = performance.now() - verifyStarted;
    if (!verified.ok) throw new Error(`the seeded log does not verify: ${JSON.stringify(verified.damages[0])}`);

    const sizes = await pool.query<{ name: string; size: string }>(
      `SELECT c.relname AS name, pg_size_pretty(pg_relation_size(c.oid)) AS size FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE i.indrelid = 'events'::regclass ORDER BY pg_relation_size(c.oid) DESC`,
    );
    const tableSize = (await pool.query<{ size: string }>("SELECT pg_size_pretty(pg_relation_size('events')) AS size")).rows[0]!.size;

    console.log(`\nThe audit trail at ${eventCount.toLocaleString('en')} events (${from.toISOString().slice(0, 10)} to ${to.toISOString().slice(0, 10)}), first page of ${auditPageLimits.default}, ${settings.samples} queries each:\n`);
    console.log(table(['query', 'p50 ms', 'p99 ms', 'max ms', 'items/page'], rows));
    console.log(`\n${table(
      ['log operation', 'events', 'time', 'events/s'],
      [
        ...(Number.isNaN(seedMs) ? [] : [['seed (generate, seal, hash-chain, insert)', eventCount.toLocaleString('en'), seconds(seedMs), fixed(eventCount / (seedMs / 1000))]]),
        // Per event of the log, though the rebuild reads only the types its projections handle.
        ['projections rebuild (replay, write, index, swap)', eventCount.toLocaleString('en'), seconds(rebuildMs), fixed(eventCount / (rebuildMs / 1000))],
        ['audit verify (every chain and head)', verified.events.toLocaleString('en'), seconds(verifyMs), fixed(verified.events / (verifyMs / 1000))],
      ],
    )}`);
    console.log(`\nthe rebuild read ${rebuilt.replayed.toLocaleString('en')} of those events (the types its projections handle); its swap held the tables for ${fixed(rebuilt.swapMs, 1)} ms`);
    console.log(`events table ${tableSize}; its indexes: ${sizes.rows.map((row) => `${row.name} ${row.size}`).join(', ')}`);
  } finally {
    await stopping();
  }
};

/** Query targets from a database seeded by an earlier run. */
const summaryOf = async (pool: pg.Pool): Promise<SeedSummary> => {
  const users = await pool.query<{ user_id: string; user_name: string }>(
    `SELECT u.user_id, u.user_name FROM users u ORDER BY u.user_name LIMIT 2000`,
  );
  const sessions = await pool.query<{ id: string }>("SELECT substr(stream_id, 9) AS id FROM streams WHERE stream_id LIKE 'session-%' LIMIT 2000");
  return {
    events: 0,
    byType: {},
    users: users.rows.map((row) => ({ userId: row.user_id as never, userName: row.user_name })),
    unknownNames: Array.from({ length: 2000 }, (_, i) => `ghost-${String(i).padStart(4, '0')}`),
    sessionIds: sessions.rows.map((row) => row.id as never),
    ips: [...Array.from({ length: 100 }, (_, i) => `10.0.0.${i}`), ...Array.from({ length: 20 }, (_, i) => `198.51.100.${i}`)],
    clientIds: ['pos-admin-panel', 'pos-kitchen', 'pos-reports'],
  };
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
