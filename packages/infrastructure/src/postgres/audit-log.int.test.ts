import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createIpDigester } from '../crypto/service-keys.js';
import { createPosAuthPersistence, type PosAuthPersistence } from '../persistence.js';
import { loginFailed, metadata } from '../testing/fixtures.js';
import { createTestSchema, type TestSchema } from '../testing/index.js';

let db: TestSchema;
let persistence: PosAuthPersistence;

beforeAll(async () => {
  db = await createTestSchema(inject('testDatabase'));
  persistence = await createPosAuthPersistence(db.pool);
});
afterAll(() => db?.drop());

describe('the audit log by IP', () => {
  it('drops an event whose digest shares only the indexed prefix, and moves the cursor past it', async () => {
    const ip = '192.0.2.44';
    const digest = createIpDigester(persistence.serviceKeys.ipHmac)(ip);
    const streamId = `test-${randomUUID()}`;
    await persistence.eventStore.appendToStream(streamId, [loginFailed(null)], { expectedVersion: 'no_stream', metadata: metadata({ ip }) });
    // Another IP whose digest begins like this one's (one chance in 2^64): written as the log would hold it.
    const lookalike = `${digest.slice(0, 16)}${'0'.repeat(48)}`;
    await db.pool.query(
      `INSERT INTO events (event_id, stream_id, stream_position, type, data, metadata, hash)
       VALUES (gen_random_uuid(), $1, 1, 'LoginFailed', '{}', jsonb_build_object('requestId', 'lookalike', 'ip', '198.51.100.200', 'ipDigest', $2::text), '\\x00')`,
      [`test-${randomUUID()}`, lookalike],
    );
    await persistence.eventStore.appendToStream(streamId, [loginFailed(null)], { expectedVersion: 1, metadata: metadata({ ip }) });
    const first = await vi.waitFor(
      async () => {
        const page = await persistence.auditLog.readEvents({ ips: [ip] }, { after: null, limit: 2 });
        expect(page.items).toHaveLength(1);
        return page;
      },
      { timeout: 10_000 },
    );
    expect(first.items[0]!.metadata.ip).toBe(ip);
    const second = await persistence.auditLog.readEvents({ ips: [ip] }, { after: first.nextCursor, limit: 2 });
    expect(second.items.map((item) => item.metadata.ip)).toEqual([ip]);
    expect(second.items[0]!.position).not.toBe(first.items[0]!.position);
  });
});
