import { z } from 'zod';
import { text } from './text.js';

/** Logout and the session listings as REST and tRPC both take and answer them. */

const opaque = text();

/** The query string of `POST /auth/logout`: which of the caller's sessions end. */
export const logoutQuery = z.object({
  scope: z.enum(['current', 'others', 'all'], { error: 'must be current, others or all' }).default('current'),
});

/** `auth.logout`: the caller's current session unless told otherwise. */
export const logoutInput = logoutQuery.default({ scope: 'current' });

/** `sessions.list`: the caller's sessions, or (for an admin) another user's. */
export const listSessionsInput = z.object({ userId: opaque.optional() }).default({});

/** `sessions.end`: one of the caller's sessions, or (for an admin) of another user's. */
export const endSessionInput = z.object({ userId: opaque.optional(), sessionId: opaque });

const sessionId = z.uuid();
const instant = z.iso.datetime();
const nullableInstant = instant.nullable();

/** An active session in the API's snake_case: an item of `GET /users/me/sessions`. */
export const sessionResource = z
  .object({
    id: sessionId,
    client_id: z.string(),
    created_at: instant.meta({ description: 'The login that started the session.' }),
    last_refreshed_at: nullableInstant,
    expires_at: instant.meta({ description: 'When it ends unless refreshed: the sooner of the expiry of its refresh token and its absolute end.' }),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    current: z.boolean().meta({ description: 'Whether the request was made with an access token of this session.' }),
  })
  .meta({ id: 'Session' });

export type SessionResource = z.output<typeof sessionResource>;

/** `GET /users/me/sessions` and `GET /users/{id}/sessions`: the active sessions, newest first. */
export const sessionList = z.array(sessionResource);

/** An active session as `sessions.list` answers it: camelCase, with its user. */
export const sessionView = z.object({
  id: sessionId,
  userId: z.uuid(),
  clientId: z.string(),
  createdAt: instant,
  lastRefreshedAt: nullableInstant,
  expiresAt: instant,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean(),
});

export type SessionView = z.output<typeof sessionView>;

/** A session of a REST listing, camelCase (REST names no user: the path does). */
export type ListedSession = Omit<SessionView, 'userId'>;

/**
 * Reads a session listing off the wire into camelCase items; refuses anything else.
 *
 * @example
 * const sessions = readSessions.parse(await response.json()); // [{ id, clientId, current, ... }]
 */
export const readSessions = sessionList.transform((sessions): ListedSession[] =>
  sessions.map((session) => ({
    id: session.id,
    clientId: session.client_id,
    createdAt: session.created_at,
    lastRefreshedAt: session.last_refreshed_at,
    expiresAt: session.expires_at,
    ip: session.ip,
    userAgent: session.user_agent,
    current: session.current,
  })),
);
