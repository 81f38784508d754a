import { describe, expect, it } from 'vitest';
import { ForbiddenError, ValidationError } from '../shared/errors.js';
import { ClientId, SessionId, UserId, UserNameDigest } from '../shared/ids.js';
import type { AuditEvent, AuditFilter, AuditLog, Pseudonymizer } from '../ports.js';
import { exportAuditEvents, queryAuditEvents, readAuditEvents, type AuditDeps, type AuditQuery } from './audit.js';
import type { Principal } from './deps.js';

const admin: Principal = { userId: UserId('a'), role: 'admin', sessionId: SessionId('s'), clientId: ClientId('c') };
const chef: Principal = { ...admin, role: 'chef' };

/** An audit log that records what it was asked, answering pages of `pages` in turn. */
const fakeLog = (pages: AuditEvent[][] = [[]]) => {
  const asked: { filter: AuditFilter; after: string | null; limit: number }[] = [];
  const auditLog: AuditLog = {
    readEvents: async (filter, page) => {
      asked.push({ filter, ...page });
      const items = pages[asked.length - 1] ?? [];
      return { items, nextCursor: items.length === 0 ? null : `after-${asked.length}` };
    },
  };
  // Shows what it hashed: the key, so that tests can read it.
  const pseudonymizer: Pseudonymizer = { userName: (key) => UserNameDigest(`hmac(${key})`) };
  const deps: AuditDeps = { auditLog, pseudonymizer };
  return { deps, asked };
};

const event = (position: number): AuditEvent => ({ position: String(position), streamId: 's', type: 'T', recordedAt: '2026-01-01T00:00:00.000Z', data: {}, metadata: { requestId: 'r', occurredAt: '2026-01-01T00:00:00.000Z' } });

describe('the audit queries', () => {
  it('are for admins only: anyone else is refused before the log is read', async () => {
    const { deps, asked } = fakeLog();
    await expect(queryAuditEvents(deps, chef, {})).rejects.toThrow(ForbiddenError);
    expect(() => exportAuditEvents(deps, chef, {})).toThrow(ForbiddenError);
    expect(asked).toEqual([]);
  });

  it('read a page of 100 by default, from the cursor given', async () => {
    const { deps, asked } = fakeLog();
    await queryAuditEvents(deps, admin, {});
    await queryAuditEvents(deps, admin, { cursor: 'c1', limit: 1000 });
    expect(asked.map(({ after, limit }) => ({ after, limit }))).toEqual([
      { after: null, limit: 100 },
      { after: 'c1', limit: 1000 },
    ]);
  });

  it.each<[string, AuditQuery, string]>([
    ['a page of none', { limit: 0 }, 'limit'],
    ['a page of more than 1000', { limit: 1001 }, 'limit'],
    ['a page of a fraction', { limit: 2.5 }, 'limit'],
    ['a range that ends before it starts', { from: new Date('2026-02-01'), to: new Date('2026-01-01') }, 'to'],
    ['an empty range', { from: new Date('2026-02-01'), to: new Date('2026-02-01') }, 'to'],
  ])('refuse %s, naming the field', async (_, query, path) => {
    const { deps, asked } = fakeLog();
    const error = await readAuditEvents(deps, query).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors.map((field) => field.path)).toEqual([path]);
    expect(asked).toEqual([]);
  });

  it('compare a user name as logins do, and look for the failed logins typed with it in its stream', async () => {
    const { deps, asked } = fakeLog();
    for (const typed of ['Ａｎａ', 'ANA', 'ana']) await readAuditEvents(deps, { userName: typed });
    expect(asked.map(({ filter }) => filter.userName)).toEqual(Array(3).fill({ key: 'ana', attemptsStreamId: 'login-attempts-hmac(ana)' }));
    // What no account could have as its name (too short, a space) still has its failed logins.
    await readAuditEvents(deps, { userName: 'X Y' });
    expect(asked.at(-1)!.filter.userName).toEqual({ key: 'x y', attemptsStreamId: 'login-attempts-hmac(x y)' });
  });

  it.each<[string, string, string[]]>([
    ['an IPv4 address in both the forms a dual-stack server records', '203.0.113.7', ['203.0.113.7', '::ffff:203.0.113.7']],
    ['an IPv4-mapped IPv6 address likewise', '::FFFF:203.0.113.7', ['203.0.113.7', '::ffff:203.0.113.7']],
    ['any other address as given', '2001:db8::1', ['2001:db8::1']],
  ])('look for %s', async (_, ip, ips) => {
    const { deps, asked } = fakeLog();
    await readAuditEvents(deps, { ip });
    expect(asked[0]!.filter.ips).toEqual(ips);
  });

  it('pass the other filters on, types once each and none for an empty list', async () => {
    const { deps, asked } = fakeLog();
    const from = new Date('2026-01-01T00:00:00Z');
    await readAuditEvents(deps, { userId: UserId('u'), sessionId: SessionId('s'), clientId: 'c', requestId: 'r', types: ['A', 'B', 'A'], from });
    await readAuditEvents(deps, { types: [] });
    expect(asked.map(({ filter }) => filter)).toEqual([
      { userId: 'u', sessionId: 's', clientId: 'c', requestId: 'r', types: ['A', 'B'], from, to: undefined, ips: undefined, userName: undefined },
      { userId: undefined, sessionId: undefined, clientId: undefined, requestId: undefined, types: undefined, from: undefined, to: undefined, ips: undefined, userName: undefined },
    ]);
  });

  it('export every page in turn, from the cursor given, until an empty one', async () => {
    const { deps, asked } = fakeLog([[event(1), event(2)], [event(3)], []]);
    const exported = [];
    for await (const item of exportAuditEvents(deps, admin, { cursor: 'start' })) exported.push(item.position);
    expect(exported).toEqual(['1', '2', '3']);
    expect(asked.map(({ after, limit }) => ({ after, limit }))).toEqual([
      { after: 'start', limit: 1000 },
      { after: 'after-1', limit: 1000 },
      { after: 'after-2', limit: 1000 },
    ]);
  });
});
