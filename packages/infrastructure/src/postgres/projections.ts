import { isPosAuthEvent, type PosAuthEvent } from '@pos-auth/domain';
import type { Projection, ProjectedEvent, ProjectionTable, RowOp } from './projection.js';

/** A `ProjectedEvent` narrowed by its type, so that a `switch` on `type` narrows `data`. */
type Projected = PosAuthEvent extends infer E ? (E extends PosAuthEvent ? ProjectedEvent & { readonly type: E['type']; readonly data: E['data'] } : never) : never;

const asPosAuth = (event: ProjectedEvent): Projected | null => (isPosAuthEvent(event as never) ? (event as unknown as Projected) : null);

const usersTable: ProjectionTable = {
  name: 'users',
  key: ['user_id'],
  columns: {
    user_id: 'text',
    user_name: 'text',
    user_name_key: 'text',
    email: 'text',
    name: 'text',
    role: 'text',
    disabled: 'boolean',
    created_at: 'timestamptz',
    updated_at: 'timestamptz',
  },
};

/**
 * Accounts as the API shows them, and the user-name index logins look up. An erased account's row
 * is deleted: what remains of the person is the log's sealed fields, under a destroyed key.
 */
export const usersProjection: Projection = {
  name: 'users',
  version: 2,
  tables: [usersTable],
  canHandle: ['UserRegistered', 'UserRoleChanged', 'UserDisabled', 'UserEnabled', 'UserProfileChanged', 'PasswordChanged', 'UserErased'],
  apply(event): RowOp[] {
    const e = asPosAuth(event);
    if (e === null) return [];
    switch (e.type) {
      case 'UserRegistered':
        return [
          {
            op: 'insert',
            table: 'users',
            // The key is the one decided at registration and recorded in the event: a rebuild gives
            // the same rows even after the normalization rules change.
            row: {
              user_id: e.data.userId,
              user_name: e.data.userName,
              user_name_key: e.data.userNameKey,
              email: e.data.email,
              name: e.data.name,
              role: e.data.role,
              disabled: false,
              created_at: e.data.registeredAt,
              updated_at: e.data.registeredAt,
            },
          },
        ];
      case 'UserRoleChanged':
        return [{ op: 'update', table: 'users', where: { user_id: e.data.userId }, set: { role: e.data.role, updated_at: e.data.changedAt } }];
      case 'UserDisabled':
        return [{ op: 'update', table: 'users', where: { user_id: e.data.userId }, set: { disabled: true, updated_at: e.data.disabledAt } }];
      case 'UserEnabled':
        return [{ op: 'update', table: 'users', where: { user_id: e.data.userId }, set: { disabled: false, updated_at: e.data.enabledAt } }];
      case 'UserProfileChanged':
        return [
          {
            op: 'update',
            table: 'users',
            where: { user_id: e.data.userId },
            set: {
              ...(e.data.name === undefined ? {} : { name: e.data.name }),
              ...(e.data.email === undefined ? {} : { email: e.data.email }),
              updated_at: e.data.changedAt,
            },
          },
        ];
      case 'PasswordChanged':
        return [{ op: 'update', table: 'users', where: { user_id: e.data.userId }, set: { updated_at: e.data.changedAt } }];
      case 'UserErased':
        return [{ op: 'delete', table: 'users', where: { user_id: e.data.userId } }];
      default:
        return [];
    }
  },
};

const sessionsTable: ProjectionTable = {
  name: 'sessions',
  key: ['session_id'],
  columns: {
    session_id: 'text',
    user_id: 'text',
    client_id: 'text',
    scope: 'text',
    status: 'text',
    created_at: 'timestamptz',
    last_refreshed_at: 'timestamptz',
    refresh_expires_at: 'timestamptz',
    expires_at: 'timestamptz',
    ip: 'text',
    user_agent: 'text',
    revoked_at: 'timestamptz',
    revoked_reason: 'text',
  },
};

const refreshTokensTable: ProjectionTable = {
  name: 'refresh_tokens',
  key: ['digest'],
  insertOnly: true,
  columns: { digest: 'text', session_id: 'text', issued_at: 'timestamptz', expires_at: 'timestamptz' },
  // A rotated token's row stays until its own expiry: until then, presenting it is recognised as reuse.
  expiresAt: 'expires_at',
};

const accessTokensTable: ProjectionTable = {
  name: 'access_tokens',
  key: ['digest'],
  insertOnly: true,
  columns: { digest: 'text', session_id: 'text', user_id: 'text', client_id: 'text', issued_at: 'timestamptz', expires_at: 'timestamptz' },
  expiresAt: 'expires_at',
};

/**
 * Sessions for listing and for token checks, and every token digest with its session: a rotated
 * refresh token still leads to its session, which then decides it is a replay or a reuse. A
 * revoked session keeps its rows; the token checks join the session's status, so revocation takes
 * effect on the very next request.
 */
export const sessionsProjection: Projection = {
  name: 'sessions',
  version: 2,
  tables: [sessionsTable, refreshTokensTable, accessTokensTable],
  canHandle: ['TokenIssued', 'TokenRefreshed', 'SessionRevoked', 'UserErased'],
  apply(event): RowOp[] {
    const e = asPosAuth(event);
    if (e === null) return [];
    switch (e.type) {
      case 'TokenIssued':
      case 'TokenRefreshed': {
        const issuedAt = e.type === 'TokenIssued' ? e.data.issuedAt : e.data.refreshedAt;
        const tokens: RowOp[] = [
          {
            op: 'insert',
            table: 'refresh_tokens',
            row: { digest: e.data.refreshTokenDigest, session_id: e.data.sessionId, issued_at: issuedAt, expires_at: e.data.refreshTokenExpiresAt },
          },
          {
            op: 'insert',
            table: 'access_tokens',
            row: {
              digest: e.data.accessTokenDigest,
              session_id: e.data.sessionId,
              user_id: e.data.userId,
              client_id: e.data.clientId,
              issued_at: issuedAt,
              expires_at: e.data.accessTokenExpiresAt,
            },
          },
        ];
        const session: RowOp =
          e.type === 'TokenIssued'
            ? {
                op: 'insert',
                table: 'sessions',
                row: {
                  session_id: e.data.sessionId,
                  user_id: e.data.userId,
                  client_id: e.data.clientId,
                  scope: e.data.scope,
                  status: 'active',
                  created_at: e.data.issuedAt,
                  last_refreshed_at: null,
                  refresh_expires_at: e.data.refreshTokenExpiresAt,
                  expires_at: e.data.sessionExpiresAt,
                  ip: e.metadata.ip ?? null,
                  user_agent: e.metadata.userAgent ?? null,
                },
              }
            : {
                op: 'update',
                table: 'sessions',
                where: { session_id: e.data.sessionId },
                set: { last_refreshed_at: e.data.refreshedAt, refresh_expires_at: e.data.refreshTokenExpiresAt },
              };
        return [session, ...tokens];
      }
      case 'SessionRevoked':
        return [
          {
            op: 'update',
            table: 'sessions',
            where: { session_id: e.data.sessionId },
            set: { status: 'revoked', revoked_at: e.data.revokedAt, revoked_reason: e.data.reason },
          },
        ];
      case 'UserErased':
        // The sessions stay (they are ended separately); where they came from is the person's data.
        return [{ op: 'update', table: 'sessions', where: { user_id: e.data.userId }, set: { ip: null, user_agent: null } }];
      default:
        return [];
    }
  },
};

export const clientsProjection: Projection = {
  name: 'clients',
  version: 2,
  tables: [{ name: 'clients', key: ['client_id'], columns: { client_id: 'text', registered_at: 'timestamptz', secret_rotated_at: 'timestamptz' } }],
  canHandle: ['ClientRegistered', 'ClientSecretRotated'],
  apply(event): RowOp[] {
    const e = asPosAuth(event);
    if (e?.type === 'ClientRegistered') return [{ op: 'insert', table: 'clients', row: { client_id: e.data.clientId, registered_at: e.data.registeredAt } }];
    if (e?.type === 'ClientSecretRotated') return [{ op: 'update', table: 'clients', where: { client_id: e.data.clientId }, set: { secret_rotated_at: e.data.rotatedAt } }];
    return [];
  },
};

/** pos-auth's inline projections, as the event store and the rebuild take them. */
export const posAuthProjections: readonly Projection[] = [usersProjection, sessionsProjection, clientsProjection];
