import { describe, expect, it } from 'vitest';
import { readResponse, restEndpoints } from './endpoints.js';

const user = {
  id: '6f1c2a4e-8b0d-4c3a-9e2f-1a2b3c4d5e6f',
  user_name: 'ana',
  email: null,
  name: 'Ana',
  role: 'admin',
  disabled: false,
  created_at: '2026-12-02T08:00:00.000Z',
  updated_at: '2026-12-02T08:30:00.000Z',
};

describe('reading responses by endpoint', () => {
  it('reads a user resource into its camelCase view, dropping fields it does not know', () => {
    expect(readResponse('GET /users/me', { ...user, unknown: 1 })).toEqual({
      id: user.id,
      userName: 'ana',
      email: null,
      name: 'Ana',
      role: 'admin',
      disabled: false,
      createdAt: user.created_at,
      updatedAt: user.updated_at,
    });
  });

  it('reads a page of users, a session listing and a token response into camelCase', () => {
    expect(readResponse('GET /users', { items: [user], next_cursor: null })).toMatchObject({ items: [{ userName: 'ana' }], nextCursor: null });
    const session = {
      id: '0b7e3c1d-2f4a-4b5c-8d6e-7f8091a2b3c4',
      client_id: 'admin-panel',
      created_at: '2026-12-02T08:00:00.000Z',
      last_refreshed_at: null,
      expires_at: '2026-12-16T08:00:00.000Z',
      ip: '127.0.0.1',
      user_agent: null,
      current: true,
    };
    expect(readResponse('GET /users/me/sessions', [session])).toEqual([
      { id: session.id, clientId: 'admin-panel', createdAt: session.created_at, lastRefreshedAt: null, expiresAt: session.expires_at, ip: '127.0.0.1', userAgent: null, current: true },
    ]);
    const tokens = { access_token: 'a', token_type: 'Bearer', expires_in: 1800, expires_at: '2026-12-02T08:30:00.000Z', refresh_token: 'r' };
    expect(readResponse('POST /auth/token', tokens)).toEqual({ accessToken: 'a', refreshToken: 'r', tokenType: 'Bearer', expiresIn: 1800, expiresAt: tokens.expires_at });
    expect(readResponse('POST /oauth/token', { ...tokens, scope: 'pos' })).toMatchObject({ scope: 'pos' });
  });

  it('refuses a body that is not what the endpoint answers', () => {
    expect(() => readResponse('GET /users/me', { ...user, role: 'owner' })).toThrow(/role/);
    expect(() => readResponse('GET /users/me', { ...user, created_at: 'yesterday' })).toThrow(/created_at/);
    expect(() => readResponse('POST /auth/refresh-token', { access_token: 'a', token_type: 'Bearer' })).toThrow(/refresh_token/);
    expect(() => readResponse('POST /oauth/introspect', { active: 'yes' })).toThrow();
  });

  it('names the success status of every endpoint, and no body for those that answer none', () => {
    expect(restEndpoints['POST /users'].status).toBe(201);
    expect(restEndpoints['POST /oauth/token'].status).toBe(200);
    expect(restEndpoints['POST /oauth/revoke']).toEqual({ status: 200, body: null, read: null });
    expect(restEndpoints['DELETE /users/{id}']).toEqual({ status: 204, body: null, read: null });
  });
});
