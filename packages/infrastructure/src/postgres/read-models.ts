import {
  ClientId,
  isRole,
  SessionId,
  TokenDigest,
  UserId,
  ValidationError,
  sessionStreamId,
  type ClientReadModel,
  type Role,
  type SessionReadModel,
  type SessionView,
  type StreamHead,
  type UserReadModel,
  type UserView,
} from '@pos-auth/domain';
import type { Pool } from 'pg';

export interface PostgresReadModels {
  readonly users: UserReadModel;
  readonly sessions: SessionReadModel;
  readonly clients: ClientReadModel;
}

/** Roles come from the projection, which only the append writes; anything else is corruption. */
const toRole = (value: string): Role => {
  if (!isRole(value)) throw new Error(`The users projection holds an unknown role: ${JSON.stringify(value)}`);
  return value;
};

interface UserRow {
  user_id: string;
  user_name: string;
  email: string | null;
  name: string | null;
  role: string;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const userColumns = 'user_id, user_name, email, name, role, disabled, created_at, updated_at';

const toUserView = (row: UserRow): UserView => ({
  id: UserId(row.user_id),
  userName: row.user_name,
  email: row.email,
  name: row.name,
  role: toRole(row.role),
  disabled: row.disabled,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const head = (version: number | null, snapshot: StreamHead['snapshot'] | null): StreamHead => ({
  version: version ?? 0,
  snapshot: snapshot ?? null,
});

/** The session stream id of a session id column, as the event store names it. */
const sessionStreamOf = `'${sessionStreamId(SessionId(''))}' || r.session_id`;

/** Cursors are the last user-name key of a page, opaque to callers. */
const encodeCursor = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
const decodeCursor = (cursor: string): string | null => {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  return encodeCursor(key) === cursor ? key : null;
};

/** Escapes LIKE's wildcards, so that a prefix is matched as typed. */
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/gu, (char) => `\\${char}`)}%`;

/**
 * The domain's read ports over the inline projections, which the append statement keeps current:
 * a read right after a write sees it. One indexed query per method; the hot ones (login, refresh,
 * token checks) are named prepared statements, planned once per connection.
 *
 * @example
 * const { users, sessions, clients } = createPostgresReadModels(pool);
 * const me = await users.getUser(userId);
 */
export const createPostgresReadModels = (pool: Pool): PostgresReadModels => ({
  users: {
    async findLoginCandidate(userNameKey, attemptsStreamId) {
      const { rows } = await pool.query<{
        user_id: string | null;
        password_hash: string | null;
        disabled: boolean | null;
        role: string | null;
        version: number | null;
        snapshot: StreamHead['snapshot'] | null;
      }>({
        name: 'pos_auth_login_candidate',
        text: `SELECT u.user_id, c.password_hash, u.disabled, u.role, s.version, s.snapshot
               FROM (SELECT 1) AS one
               LEFT JOIN users u ON u.user_name_key = $1
               LEFT JOIN user_credentials c ON c.user_id = u.user_id
               LEFT JOIN streams s ON s.stream_id = $2`,
        values: [userNameKey, attemptsStreamId],
      });
      const row = rows[0]!;
      return {
        account:
          row.user_id === null || row.password_hash === null
            ? null
            : { userId: UserId(row.user_id), passwordHash: row.password_hash, disabled: row.disabled === true, role: toRole(row.role ?? '') },
        attempts: head(row.version, row.snapshot),
      };
    },

    async findPasswordHash(userId) {
      const { rows } = await pool.query<{ password_hash: string }>('SELECT password_hash FROM user_credentials WHERE user_id = $1', [userId]);
      return rows[0]?.password_hash ?? null;
    },

    async getUser(userId) {
      const { rows } = await pool.query<UserRow>({
        name: 'pos_auth_get_user',
        text: `SELECT ${userColumns} FROM users WHERE user_id = $1`,
        values: [userId],
      });
      return rows[0] === undefined ? null : toUserView(rows[0]);
    },

    async hasAnyUser() {
      const { rows } = await pool.query<{ any_user: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS any_user');
      return rows[0]?.any_user === true;
    },

    async listActiveAdminIds() {
      const { rows } = await pool.query<{ user_id: string }>(
        "SELECT user_id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY user_id",
      );
      return rows.map((row) => UserId(row.user_id));
    },

    async listUsers(query) {
      const after = query.cursor === null ? null : decodeCursor(query.cursor);
      // The cursor comes from the caller: one this service did not make is bad input, not a bug.
      if (query.cursor !== null && after === null) throw new ValidationError([{ path: 'cursor', message: 'is not a cursor of this service' }]);
      // Only the filters given, so that each combination gets a plan of its own (the pool asks
      // for generic plans). Keyset pagination on the unique user-name key: a user that exists
      // throughout a walk is seen exactly once, whatever is added or removed meanwhile.
      const values: unknown[] = [];
      const where: string[] = [];
      const filter = (sql: (param: string) => string, value: unknown) => {
        values.push(value);
        where.push(sql(`$${values.length}`));
      };
      if (after !== null) filter((p) => `user_name_key > ${p}`, after);
      if (query.role !== undefined) filter((p) => `role = ${p}`, query.role);
      if (query.disabled !== undefined) filter((p) => `disabled = ${p}`, query.disabled);
      if (query.userNamePrefix !== undefined) filter((p) => `user_name_key LIKE ${p}`, likePrefix(query.userNamePrefix));
      values.push(query.limit + 1);
      const { rows } = await pool.query<UserRow & { user_name_key: string }>(
        `SELECT ${userColumns}, user_name_key FROM users
         ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
         ORDER BY user_name_key
         LIMIT $${values.length}`,
        values,
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map(toUserView),
        nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.user_name_key) : null,
      };
    },
  },

  sessions: {
    async findByRefreshTokenDigest(digest) {
      const { rows } = await pool.query<{
        session_id: string;
        issued_at: Date;
        expires_at: Date;
        version: number | null;
        snapshot: StreamHead['snapshot'] | null;
        user_name: string | null;
        role: string | null;
        user_active: boolean;
        scope: string | null;
      }>({
        name: 'pos_auth_refresh_token',
        text: `SELECT r.session_id, r.issued_at, r.expires_at, st.version, st.snapshot, u.user_name, u.role,
                      (u.user_id IS NOT NULL AND NOT u.disabled) AS user_active, se.scope
               FROM refresh_tokens r
               LEFT JOIN streams st ON st.stream_id = ${sessionStreamOf}
               LEFT JOIN sessions se ON se.session_id = r.session_id
               LEFT JOIN users u ON u.user_id = se.user_id
               WHERE r.digest = $1`,
        values: [digest],
      });
      const row = rows[0];
      if (row === undefined) return null;
      return {
        sessionId: SessionId(row.session_id),
        head: head(row.version, row.snapshot),
        userActive: row.user_active,
        // An erased user's tokens find no user: they refresh no more, whatever these read.
        userName: row.user_name ?? '',
        role: row.role === null ? 'patron' : toRole(row.role),
        scope: row.scope,
        issuedAt: row.issued_at,
        expiresAt: row.expires_at,
      };
    },

    async findAccessToken(digest) {
      // The holder as they are now (role included), not a copy taken when the token was issued; a
      // revoked session or a disabled or erased user makes the token unknown at once.
      const { rows } = await pool.query<UserRow & { session_id: string; client_id: string; scope: string | null; issued_at: Date; expires_at: Date }>({
        name: 'pos_auth_access_token',
        text: `SELECT ${userColumns.split(', ').map((column) => `u.${column}`).join(', ')},
                      a.session_id, a.client_id, se.scope, a.issued_at, a.expires_at
               FROM access_tokens a
               JOIN sessions se ON se.session_id = a.session_id AND se.status = 'active'
               JOIN users u ON u.user_id = a.user_id AND NOT u.disabled
               WHERE a.digest = $1`,
        values: [digest],
      });
      const row = rows[0];
      if (row === undefined) return null;
      return {
        holder: toUserView(row),
        sessionId: SessionId(row.session_id),
        clientId: ClientId(row.client_id),
        scope: row.scope,
        issuedAt: row.issued_at,
        expiresAt: row.expires_at,
      };
    },

    async findSessionByTokenDigest(digest) {
      const { rows } = await pool.query<{ session_id: string; client_id: string }>(
        `SELECT session_id, client_id FROM access_tokens WHERE digest = $1
         UNION ALL
         SELECT r.session_id, se.client_id FROM refresh_tokens r JOIN sessions se ON se.session_id = r.session_id WHERE r.digest = $1
         LIMIT 1`,
        [digest],
      );
      const row = rows[0];
      return row === undefined ? null : { sessionId: SessionId(row.session_id), clientId: ClientId(row.client_id) };
    },

    async listActiveSessions(userId, now) {
      const { rows } = await pool.query<{
        session_id: string;
        user_id: string;
        client_id: string;
        created_at: Date;
        last_refreshed_at: Date | null;
        ends_at: Date;
        ip: string | null;
        user_agent: string | null;
      }>(
        `SELECT session_id, user_id, client_id, created_at, last_refreshed_at,
                least(refresh_expires_at, expires_at) AS ends_at, ip, user_agent
         FROM sessions
         WHERE user_id = $1 AND status = 'active' AND least(refresh_expires_at, expires_at) > $2
         ORDER BY created_at DESC, session_id`,
        [userId, now],
      );
      return rows.map(
        (row): SessionView => ({
          id: SessionId(row.session_id),
          userId: UserId(row.user_id),
          clientId: ClientId(row.client_id),
          createdAt: row.created_at.toISOString(),
          lastRefreshedAt: row.last_refreshed_at?.toISOString() ?? null,
          expiresAt: row.ends_at.toISOString(),
          ip: row.ip,
          userAgent: row.user_agent,
        }),
      );
    },
  },

  clients: {
    async findClientSecrets(clientId) {
      const { rows } = await pool.query<{ secret_digest: string; previous_secret_digest: string | null; previous_valid_until: Date | null }>({
        name: 'pos_auth_client_secret',
        text: 'SELECT secret_digest, previous_secret_digest, previous_valid_until FROM client_credentials WHERE client_id = $1',
        values: [clientId],
      });
      const row = rows[0];
      if (row === undefined) return null;
      return {
        current: TokenDigest(row.secret_digest),
        previous:
          row.previous_secret_digest === null || row.previous_valid_until === null
            ? null
            : { digest: TokenDigest(row.previous_secret_digest), validUntil: row.previous_valid_until },
      };
    },

    async listClients() {
      const { rows } = await pool.query<{ client_id: string; registered_at: Date; secret_rotated_at: Date | null }>(
        'SELECT client_id, registered_at, secret_rotated_at FROM clients ORDER BY client_id',
      );
      return rows.map((row) => ({
        clientId: ClientId(row.client_id),
        registeredAt: row.registered_at.toISOString(),
        secretRotatedAt: row.secret_rotated_at?.toISOString() ?? null,
      }));
    },
  },
});
