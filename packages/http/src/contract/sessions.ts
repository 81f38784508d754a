import type { SessionListing } from '@pos-auth/domain';
import { z } from 'zod';
import { text } from '../input.js';

/** Logout and the session listings as REST and tRPC both take them. */

const opaque = text();

/** `auth.logout`, and the query string of `POST /auth/logout`: which of the caller's sessions end. */
export const logoutInput = z.object({
  scope: z.enum(['current', 'others', 'all'], { error: 'must be current, others or all' }).default('current'),
});

/** `sessions.list`: the caller's sessions, or (for an admin) another user's. */
export const listSessionsInput = z.object({ userId: opaque.optional() });

/** `sessions.end`: one of the caller's sessions, or (for an admin) of another user's. */
export const endSessionInput = z.object({ userId: opaque.optional(), sessionId: opaque });

/** A session in the API's snake_case. */
export const sessionResource = (session: SessionListing) => ({
  id: session.id,
  client_id: session.clientId,
  created_at: session.createdAt,
  last_refreshed_at: session.lastRefreshedAt,
  expires_at: session.expiresAt,
  ip: session.ip,
  user_agent: session.userAgent,
  current: session.current,
});
