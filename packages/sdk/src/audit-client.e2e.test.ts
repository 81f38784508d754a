import { startTestServer, type TestServer } from '@pos-auth/http/testing';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { PosAuthError, createPosAuthAuditClient, createPosAuthClient, type PosAuthAuditEvent } from './index.js';

const password = 'correct horse battery staple';

describe('createPosAuthAuditClient', () => {
  let server: TestServer;
  let admin: ReturnType<typeof createPosAuthClient>;

  /** The REST answer, page after page, as the SDK names its fields. */
  const viaRest = async (query: string): Promise<PosAuthAuditEvent[]> => {
    const events: PosAuthAuditEvent[] = [];
    let cursor: string | null = null;
    do {
      const response = await fetch(`${server.url}/audit/events?${query}&limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, {
        headers: { authorization: `Bearer ${await admin.getAccessToken()}` },
      });
      const body = (await response.json()) as {
        items: { position: string; stream_id: string; type: string; recorded_at: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[];
        next_cursor: string | null;
      };
      events.push(...body.items.map((item) => ({ position: item.position, streamId: item.stream_id, type: item.type, recordedAt: item.recorded_at, data: item.data, metadata: item.metadata })));
      cursor = body.next_cursor;
    } while (cursor !== null);
    return events;
  };

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    admin = createPosAuthClient({ baseUrl: server.url, clientId: server.client.clientId, clientSecret: server.client.clientSecret });
    await admin.register({ userName: 'auditor', password });
    await admin.login({ userName: 'auditor', password });
    const patron = createPosAuthClient({ baseUrl: server.url, clientId: server.client.clientId, clientSecret: server.client.clientSecret });
    await patron.register({ userName: 'dana', password, email: 'dana@example.test' });
    await patron.login({ userName: 'dana', password });
    await patron.refresh();
    await patron.login({ userName: 'dana', password: 'a wrong password' }).catch(() => undefined);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('walks the pages of a query and gives the same events as the REST endpoint', async () => {
    const audit = createPosAuthAuditClient({ baseUrl: server.url, getAccessToken: () => admin.getAccessToken() });
    const pages = await vi.waitFor(
      async () => {
        const collected = [];
        for await (const page of audit.events({ userName: 'DANA', limit: 2 })) collected.push(page);
        expect(collected.flatMap((page) => page.items).map((event) => event.type)).toEqual(['UserRegistered', 'TokenIssued', 'TokenRefreshed', 'LoginFailed']);
        return collected;
      },
      { timeout: 10_000 },
    );
    expect(pages.map((page) => page.items.length)).toEqual([2, 2]);
    expect(pages.every((page) => typeof page.nextCursor === 'string')).toBe(true);
    expect(pages.flatMap((page) => page.items)).toEqual(await viaRest('user_name=DANA'));
    expect(pages[0]!.items[0]!.data).toMatchObject({ userName: 'dana', email: 'dana@example.test' });
    // A walk resumed from a page's cursor goes on from there.
    const resumed = [];
    for await (const page of audit.events({ userName: 'dana', cursor: pages[0]!.nextCursor! })) resumed.push(...page.items);
    expect(resumed).toEqual(pages[1]!.items);
    const typed = [];
    for await (const page of audit.events({ types: ['LoginFailed', 'TokenRefreshed'] })) typed.push(...page.items);
    expect(typed).toEqual(await viaRest('type=LoginFailed&type=TokenRefreshed'));
  });

  it('throws PosAuthError for a caller who is not an admin, and for a bad filter', async () => {
    const patron = createPosAuthClient({ baseUrl: server.url, clientId: server.client.clientId, clientSecret: server.client.clientSecret });
    await patron.login({ userName: 'dana', password });
    const refused = await createPosAuthAuditClient({ baseUrl: server.url, getAccessToken: () => patron.getAccessToken() }).events().next().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PosAuthError);
    expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const invalid = await createPosAuthAuditClient({ baseUrl: server.url, getAccessToken: () => admin.getAccessToken() })
      .events({ userId: 'not-a-uuid' })
      .next()
      .catch((error: unknown) => error);
    expect(invalid).toMatchObject({ status: 400, fieldErrors: [{ path: 'user_id', message: 'must be a UUID' }] });
  });
});
