import { randomBytes } from 'node:crypto';
import {
  ClientId,
  SessionId,
  TokenDigest,
  UserId,
  loginAttemptsStreamId,
  personalDataOf,
  sessionStreamId,
  userNameKeyOf,
  userStreamId,
  type EventMetadata,
  type PosAuthEvent,
  type UserNameDigest,
} from '@pos-auth/domain';
import type pg from 'pg';
import { createHmacPseudonymizer, createIpDigester, loadServiceKeys } from '../crypto/service-keys.js';
import { encodeEvent, type EncodedEvent, type PersonalDataCodec } from '../postgres/personal-data.js';

/**
 * A realistic event log written straight into the tables, for benchmarks and tests that need a
 * large one fast: months of registrations, logins, refreshes, revocations and failed logins (for
 * known and unknown names, with back-off windows), as the service would have written them. Every
 * event is encoded like an append encodes it (personal fields sealed with the person's key, IPs
 * digested with the service key, typed names as keyed hashes), each stream is hash-chained, and
 * the `streams` rows, user-name claims and subject keys are written too. Projections are not:
 * rebuild them afterwards.
 */
export interface SeedOptions {
  /** About this many events (the last append may overshoot by one or two). */
  readonly events: number;
  readonly from: Date;
  readonly to: Date;
  /** Accounts to register (default: one per 100 events, at least 10). */
  readonly users?: number;
  /** Events per INSERT (default 10,000). */
  readonly batchSize?: number;
  /** The PRNG's seed: the same seed gives the same shape of log (ids and keys stay random). */
  readonly seed?: number;
  readonly onProgress?: (written: number) => void;
}

export interface SeedSummary {
  readonly events: number;
  readonly byType: Readonly<Record<string, number>>;
  /** Registered accounts, in registration order (the first ones are the busiest). */
  readonly users: readonly { readonly userId: UserId; readonly userName: string }[];
  /** Typed names that belong to nobody, hottest first. */
  readonly unknownNames: readonly string[];
  readonly sessionIds: readonly SessionId[];
  readonly ips: readonly string[];
  readonly clientIds: readonly string[];
}

/** mulberry32: small, fast and good enough to shape a workload. */
const prng = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const digest = () => TokenDigest(randomBytes(32).toString('hex'));
const uuid = () => {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const clients = [
  { id: 'pos-admin-panel', weight: 0.7 },
  { id: 'pos-kitchen', weight: 0.25 },
  { id: 'pos-reports', weight: 0.05 },
];
const userAgents = Array.from({ length: 20 }, (_, index) => `pos-terminal/${1 + (index % 4)}.${index} (seed)`);

/**
 * The chain of a batch, continued from each stream's last hash: `pos_auth_event_hash` as a running
 * aggregate, so one statement hashes every event of a batch in stream order.
 */
const chainFunctions = `
CREATE FUNCTION pg_temp.seed_chain_step(state bytea, start bytea, content bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$ SELECT sha256(coalesce(state, start, '\\x'::bytea) || content) $$;
CREATE AGGREGATE pg_temp.seed_chain(bytea, bytea) (SFUNC = pg_temp.seed_chain_step, STYPE = bytea);`;

const insertBatch = `
WITH batch AS (
  SELECT b.*, o.ord FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS o(value, ord),
    jsonb_to_record(o.value) AS b(id uuid, stream text, position integer, type text, data jsonb, metadata jsonb, at timestamptz, subject text)
), chained AS (
  SELECT b.*, pg_temp.seed_chain(s.last_hash, convert_to(json_build_array(b.id, b.stream, b.position, b.type, b.data, b.metadata,
           (extract(epoch FROM b.at) * 1000000)::bigint)::text, 'UTF8')) OVER (PARTITION BY b.stream ORDER BY b.position) AS hash
  FROM batch b LEFT JOIN streams s ON s.stream_id = b.stream
), inserted AS (
  INSERT INTO events (event_id, stream_id, stream_position, type, data, metadata, recorded_at, subject_id, hash)
  SELECT id, stream, position, type, data, metadata, at, subject, hash FROM chained ORDER BY ord
  RETURNING stream_id, stream_position, hash
)
INSERT INTO streams (stream_id, version, last_hash)
SELECT DISTINCT ON (stream_id) stream_id, stream_position, hash FROM inserted ORDER BY stream_id, stream_position DESC
ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, last_hash = EXCLUDED.last_hash`;

/** A name typed at logins: its back-off stream and how many failures in a row it has. */
interface TypedName {
  readonly nameDigest: UserNameDigest;
  readonly nameStream: string;
  failures: number;
}

interface SeededUser extends TypedName {
  readonly userId: UserId;
  readonly userName: string;
  readonly ip: string;
  readonly userAgent: string;
}

interface SeededSession {
  readonly sessionId: SessionId;
  readonly user: SeededUser;
  readonly clientId: ClientId;
  refreshDigest: TokenDigest;
}

/**
 * Seeds the log; see `SeedOptions`. Needs a migrated, empty schema (the pool's).
 *
 * @example
 * const summary = await seedEventLog(pool, { events: 1_000_000, from: new Date('2026-05-01'), to: new Date('2026-11-01') });
 * await rebuildProjections(pool, eventStore);
 */
export const seedEventLog = async (pool: pg.Pool, options: SeedOptions): Promise<SeedSummary> => {
  const random = prng(options.seed ?? 1);
  const target = options.events;
  const userTarget = options.users ?? Math.max(10, Math.floor(target / 100));
  const batchSize = options.batchSize ?? 10_000;
  const serviceKeys = await loadServiceKeys(pool);
  const pseudonymizer = createHmacPseudonymizer(serviceKeys.userNameHmac);
  const subjectKeys = new Map<string, Buffer | null>();
  const codec: PersonalDataCodec = {
    personalDataOf,
    ipDigest: createIpDigester(serviceKeys.ipHmac),
    keys: { forWriting: async () => subjectKeys, forReading: async () => subjectKeys },
  };

  const homeIps = Array.from({ length: Math.max(50, Math.floor(userTarget / 2)) }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const attackerIps = Array.from({ length: 200 }, (_, i) => (i < 100 ? `198.51.100.${i}` : `203.0.113.${i - 100}`));
  const unknownNames = Array.from({ length: 2000 }, (_, i) => `ghost-${String(i).padStart(4, '0')}`);
  const unknownTargets: TypedName[] = unknownNames.map((name) => {
    const nameDigest = pseudonymizer.userName(userNameKeyOf(name));
    return { nameDigest, nameStream: loginAttemptsStreamId(nameDigest), failures: 0 };
  });

  const versions = new Map<string, number>();
  const users: SeededUser[] = [];
  const active: SeededSession[] = [];
  const sessionIds: SessionId[] = [];
  const byType: Record<string, number> = {};
  const pending: Record<string, unknown>[] = [];
  const newKeys: { subject: string; key: Buffer }[] = [];
  const newClaims: { value: string; stream: string }[] = [];
  let written = 0;
  let queued = 0;

  // One batch is written while the next is generated: PostgreSQL and this process work at once.
  let inFlight: Promise<void> = Promise.resolve();
  const client = await pool.connect();
  try {
    await client.query(chainFunctions);

    const flush = async () => {
      if (pending.length === 0) return;
      const keys = newKeys.splice(0);
      const claims = newClaims.splice(0);
      const batch = pending.splice(0);
      const rows = JSON.stringify(batch);
      await inFlight;
      inFlight = (async () => {
        if (keys.length > 0) {
          await client.query('INSERT INTO subject_keys (subject_id, key) SELECT * FROM unnest($1::text[], $2::bytea[])', [
            keys.map((k) => k.subject),
            keys.map((k) => k.key),
          ]);
        }
        if (claims.length > 0) {
          await client.query("INSERT INTO claims (kind, value, stream_id) SELECT 'user_name', * FROM unnest($1::text[], $2::text[])", [
            claims.map((c) => c.value),
            claims.map((c) => c.stream),
          ]);
        }
        await client.query(insertBatch, [rows]);
        written += batch.length;
        options.onProgress?.(written);
      })();
      // Failures surface at the next flush or the end; until then the rejection is not unhandled.
      inFlight.catch(() => undefined);
    };

    const end = options.to.getTime();
    let now = options.from.getTime();
    let appends = 0;

    const append = async (writes: { stream: string; events: PosAuthEvent[] }[], metadata: EventMetadata) => {
      appends += 1;
      const at = new Date(now).toISOString();
      for (const write of [...writes].sort((a, b) => (a.stream < b.stream ? -1 : 1))) {
        for (const event of write.events) {
          const position = (versions.get(write.stream) ?? 0) + 1;
          versions.set(write.stream, position);
          const id = uuid();
          const encoded: EncodedEvent = encodeEvent(codec, subjectKeys, id, event, metadata);
          pending.push({ id, stream: write.stream, position, type: event.type, data: encoded.data, metadata: encoded.metadata, at, subject: encoded.subject });
          byType[event.type] = (byType[event.type] ?? 0) + 1;
          queued += 1;
        }
      }
      if (pending.length >= batchSize) await flush();
    };

    const pick = <T>(items: readonly T[], skew = 1): T => items[Math.floor(items.length * random() ** skew)]!;
    const pickClient = () => {
      let r = random();
      for (const candidate of clients) {
        if ((r -= candidate.weight) < 0) return ClientId(candidate.id);
      }
      return ClientId(clients[0]!.id);
    };
    const meta = (clientId: string | undefined, actor: string | undefined, ip: string, userAgent: string): EventMetadata => ({
      requestId: uuid(),
      occurredAt: new Date(now).toISOString(),
      clientId,
      actorUserId: actor,
      ip,
      userAgent,
    });
    const later = (seconds: number) => new Date(now + seconds * 1000).toISOString();

    for (const clientId of clients.map((c) => c.id)) {
      await append([{ stream: `client-${clientId}`, events: [{ type: 'ClientRegistered', data: { clientId: ClientId(clientId), registeredAt: new Date(now).toISOString() } }] }], {
        requestId: 'startup',
        occurredAt: new Date(now).toISOString(),
      });
    }

    const register = async () => {
      const index = users.length;
      const userId = UserId(uuid());
      const userName = `seed-user-${String(index).padStart(6, '0')}`;
      const nameDigest = pseudonymizer.userName(userName);
      const user: SeededUser = {
        userId,
        userName,
        nameStream: loginAttemptsStreamId(nameDigest),
        nameDigest,
        ip: homeIps[index % homeIps.length]!,
        userAgent: userAgents[index % userAgents.length]!,
        failures: 0,
      };
      users.push(user);
      const key = randomBytes(32);
      subjectKeys.set(userId, key);
      newKeys.push({ subject: userId, key });
      newClaims.push({ value: userName, stream: userStreamId(userId) });
      const at = new Date(now).toISOString();
      await append(
        [
          {
            stream: userStreamId(userId),
            events: [
              {
                type: 'UserRegistered',
                data: { userId, userName, userNameKey: userName, email: `${userName}@example.test`, name: `Seed User ${index}`, role: index === 0 ? 'admin' : 'patron', bootstrap: index === 0, registeredAt: at },
              },
            ],
          },
        ],
        meta(pickClient(), undefined, user.ip, user.userAgent),
      );
    };

    const login = async () => {
      const user = pick(users, 2);
      const clientId = pickClient();
      const sessionId = SessionId(uuid());
      const refreshDigest = digest();
      const writes: { stream: string; events: PosAuthEvent[] }[] = [
        {
          stream: sessionStreamId(sessionId),
          events: [
            {
              type: 'TokenIssued',
              data: {
                sessionId,
                userId: user.userId,
                clientId,
                grantType: 'password',
                scope: null,
                issuedAt: new Date(now).toISOString(),
                sessionExpiresAt: later(30 * 86_400),
                accessTokenDigest: digest(),
                accessTokenExpiresAt: later(1800),
                refreshTokenDigest: refreshDigest,
                refreshTokenExpiresAt: later(14 * 86_400),
              },
            },
          ],
        },
      ];
      if (user.failures > 0) {
        writes.push({ stream: user.nameStream, events: [{ type: 'FailedLoginsCleared', data: { userId: user.userId, userNameDigest: user.nameDigest, clearedAt: new Date(now).toISOString() } }] });
        user.failures = 0;
      }
      await append(writes, meta(clientId, user.userId, user.ip, user.userAgent));
      const session = { sessionId, user, clientId, refreshDigest };
      sessionIds.push(sessionId);
      // Old sessions expire: keep the set that still refreshes bounded.
      if (active.length >= 20_000) active[Math.floor(random() * active.length)] = session;
      else active.push(session);
    };

    const refresh = async () => {
      const session = active[Math.floor(random() * active.length)];
      if (session === undefined) return login();
      const next = digest();
      await append(
        [
          {
            stream: sessionStreamId(session.sessionId),
            events: [
              {
                type: 'TokenRefreshed',
                data: {
                  sessionId: session.sessionId,
                  userId: session.user.userId,
                  clientId: session.clientId,
                  previousRefreshTokenDigest: session.refreshDigest,
                  refreshedAt: new Date(now).toISOString(),
                  accessTokenDigest: digest(),
                  accessTokenExpiresAt: later(1800),
                  refreshTokenDigest: next,
                  refreshTokenExpiresAt: later(14 * 86_400),
                },
              },
            ],
          },
        ],
        meta(session.clientId, undefined, session.user.ip, session.user.userAgent),
      );
      session.refreshDigest = next;
    };

    const revoke = async () => {
      const index = Math.floor(random() * active.length);
      const session = active[index];
      if (session === undefined) return login();
      active[index] = active[active.length - 1]!;
      active.pop();
      await append(
        [{ stream: sessionStreamId(session.sessionId), events: [{ type: 'SessionRevoked', data: { sessionId: session.sessionId, userId: session.user.userId, reason: 'logout', revokedAt: new Date(now).toISOString() } }] }],
        meta(session.clientId, session.user.userId, session.user.ip, session.user.userAgent),
      );
    };

    const fail = async (known: boolean) => {
      const clientId = pickClient();
      const at = new Date(now).toISOString();
      const user = known ? pick(users, 3) : null;
      const target: TypedName = user ?? pick(unknownTargets, 3);
      const userId = user?.userId ?? null;
      const nameDigest = target.nameDigest;
      target.failures += 1;
      const events: PosAuthEvent[] = [
        { type: 'LoginFailed', data: { userId, userNameDigest: nameDigest, clientId, reason: known ? 'wrong_password' : 'unknown_user', consecutiveFailures: target.failures, failedAt: at } },
      ];
      if (target.failures >= 5) {
        const window = Math.min(2 ** (target.failures - 5), 900);
        events.push({ type: 'LoginThrottled', data: { userId, userNameDigest: nameDigest, consecutiveFailures: target.failures, until: later(window), throttledAt: at } });
      }
      const ip = user !== null && random() < 0.7 ? user.ip : pick(attackerIps, 2);
      await append([{ stream: target.nameStream, events }], meta(clientId, undefined, ip, user?.userAgent ?? pick(userAgents)));
    };

    const changeUser = async () => {
      const user = pick(users, 2);
      const at = new Date(now).toISOString();
      const event: PosAuthEvent =
        random() < 0.5
          ? { type: 'UserProfileChanged', data: { userId: user.userId, name: `Seed User ${user.userName.slice(10)} (${Math.floor(random() * 100)})`, changedAt: at } }
          : { type: 'PasswordChanged', data: { userId: user.userId, by: 'self', changedAt: at } };
      await append([{ stream: userStreamId(user.userId), events: [event] }], meta(pickClient(), user.userId, user.ip, user.userAgent));
    };

    // A tenth of the accounts exist from the start; the rest register over the span.
    while (users.length < Math.ceil(userTarget / 10)) await register();
    const registerWeight = (userTarget - users.length) / (target / 1.1);
    while (queued < target) {
      // Spread what is left of the appends evenly over what is left of the span.
      const appendsLeft = (target - queued) / (queued / appends);
      now += -Math.log(1 - random()) * ((end - now) / Math.max(1, appendsLeft));
      const r = random();
      if (r < registerWeight && users.length < userTarget) await register();
      else if (r < 0.15) await login();
      else if (r < 0.66) await refresh();
      else if (r < 0.7) await revoke();
      else if (r < 0.8) await fail(true);
      else if (r < 0.9) await fail(false);
      else if (r < 0.91) await changeUser();
      else await refresh();
    }
    await flush();
    await inFlight;
  } finally {
    await inFlight.catch(() => undefined);
    client.release();
  }

  return {
    events: written,
    byType,
    users: users.map(({ userId, userName }) => ({ userId, userName })),
    unknownNames,
    sessionIds,
    ips: [...homeIps.slice(0, 100), ...attackerIps.slice(0, 20)],
    clientIds: clients.map((c) => c.id),
  };
};
