import {
  ClientId,
  isRole,
  SessionId,
  TokenDigest,
  UserId,
  type ClientReadModel,
  type Role,
  type SessionReadModel,
  type UserReadModel,
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

/**
 * The domain's read ports over the inline projections, which the append transaction keeps
 * current: a read right after a write sees it. One indexed query per method.
 *
 * @example
 * const { users, sessions, clients } = createPostgresReadModels(pool);
 * const credentials = await users.findCredentialsByUserName(normalizeUserName('Alice').key);
 */
export const createPostgresReadModels = (pool: Pool): PostgresReadModels => ({
  users: {
    async findCredentialsByUserName(userNameKey) {
      const { rows } = await pool.query<{ user_id: string; password_hash: string }>(
        `SELECT u.user_id, c.password_hash
         FROM users u JOIN user_credentials c ON c.user_id = u.user_id
         WHERE u.user_name_key = $1`,
        [userNameKey],
      );
      const row = rows[0];
      return row === undefined ? null : { userId: UserId(row.user_id), passwordHash: row.password_hash };
    },

    async getUser(userId) {
      const { rows } = await pool.query<{
        user_id: string;
        user_name: string;
        email: string | null;
        name: string | null;
        role: string;
        created_at: Date;
        updated_at: Date;
      }>('SELECT user_id, user_name, email, name, role, created_at, updated_at FROM users WHERE user_id = $1', [
        userId,
      ]);
      const row = rows[0];
      if (row === undefined) return null;
      return {
        id: UserId(row.user_id),
        userName: row.user_name,
        email: row.email,
        name: row.name,
        role: toRole(row.role),
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      };
    },

    async hasAnyUser() {
      const { rows } = await pool.query<{ any_user: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS any_user');
      return rows[0]?.any_user === true;
    },
  },

  sessions: {
    async findSessionIdByRefreshTokenDigest(digest) {
      const { rows } = await pool.query<{ session_id: string }>(
        'SELECT session_id FROM refresh_tokens WHERE digest = $1',
        [digest],
      );
      const row = rows[0];
      return row === undefined ? null : SessionId(row.session_id);
    },

    async findAccessToken(digest) {
      // The role is the user's current one, not a copy taken when the token was issued.
      const { rows } = await pool.query<{
        user_id: string;
        role: string;
        session_id: string;
        client_id: string;
        expires_at: Date;
      }>(
        `SELECT a.user_id, u.role, a.session_id, a.client_id, a.expires_at
         FROM access_tokens a JOIN users u ON u.user_id = a.user_id
         WHERE a.digest = $1`,
        [digest],
      );
      const row = rows[0];
      if (row === undefined) return null;
      return {
        userId: UserId(row.user_id),
        role: toRole(row.role),
        sessionId: SessionId(row.session_id),
        clientId: ClientId(row.client_id),
        expiresAt: row.expires_at,
      };
    },
  },

  clients: {
    async findClientSecretDigest(clientId) {
      const { rows } = await pool.query<{ secret_digest: string }>(
        'SELECT secret_digest FROM client_credentials WHERE client_id = $1',
        [clientId],
      );
      const row = rows[0];
      return row === undefined ? null : TokenDigest(row.secret_digest);
    },
  },
});
