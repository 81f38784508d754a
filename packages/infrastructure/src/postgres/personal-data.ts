import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { erasedValue, type DomainEvent, type EventMetadata, type PersonalData } from '@pos-auth/domain';
import type pg from 'pg';

/** Where the sealed personal fields of an event's data or metadata are kept. */
const sealedKey = '$pii';
/** Metadata fields that are personal whenever the event has a subject. */
const personalMetadataFields = ['ip', 'userAgent'] as const;

interface Sealed {
  /** Which fields are sealed: not personal in themselves, and what an erased read shows. */
  readonly fields: readonly string[];
  /** base64url(iv ‖ ciphertext ‖ tag), AES-256-GCM; null when the subject was already erased. */
  readonly box: string | null;
}

const isSealed = (value: unknown): value is Sealed =>
  typeof value === 'object' && value !== null && Array.isArray((value as Sealed).fields);

const seal = (key: Buffer, aad: string, plain: object): string => {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
};

const open = (key: Buffer, aad: string, box: string): Record<string, unknown> => {
  const bytes = Buffer.from(box, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
};

/**
 * Moves `fields` of `source` into a sealed box under `key` (bound to `aad`, so a box cannot be
 * moved to another event); with no key (an erased subject) they are dropped, never written.
 */
const sealFields = (source: Record<string, unknown>, fields: readonly string[], key: Buffer | null, aad: string) => {
  const present = fields.filter((field) => source[field] !== undefined);
  if (present.length === 0) return source;
  const rest = Object.fromEntries(Object.entries(source).filter(([field]) => !present.includes(field)));
  const plain = Object.fromEntries(present.map((field) => [field, source[field]]));
  const sealed: Sealed = { fields: present, box: key === null ? null : seal(key, aad, plain) };
  return { ...rest, [sealedKey]: sealed };
};

/** What a sealed field reads as when its box does not open under its key: altered behind the service's back. */
export const unreadableValue = '[unreadable]';

const every = (fields: readonly string[], value: string) => Object.fromEntries(fields.map((field) => [field, value]));

/**
 * The reverse of `sealFields`: the fields in clear, `erasedValue` when their key is gone, and
 * `unreadableValue` when the box was altered (GCM refuses it; `audit verify` names the event).
 */
const openFields = (stored: Record<string, unknown>, key: Buffer | null | undefined, aad: string): Record<string, unknown> => {
  const sealed = stored[sealedKey];
  if (!isSealed(sealed)) return stored;
  const { [sealedKey]: _, ...rest } = stored;
  if (!(key instanceof Buffer) || sealed.box === null) return { ...rest, ...every(sealed.fields, erasedValue) };
  try {
    return { ...rest, ...open(key, aad, sealed.box) };
  } catch {
    return { ...rest, ...every(sealed.fields, unreadableValue) };
  }
};

/**
 * Per-person keys (crypto-shredding), kept outside the log in `subject_keys`. Writers get a key
 * from a cache (creating it on first use); readers always read keys from the database, so that
 * once a person is erased nothing decrypts their fields again, on any instance. A cached key that
 * outlives an erasure can only seal new fields under a destroyed key: unreadable, never clear.
 */
export interface SubjectKeys {
  /** The key to seal with for each subject: created when missing, null when erased. */
  forWriting(subjects: readonly string[]): Promise<ReadonlyMap<string, Buffer | null>>;
  /** The key to open with for each subject, from the database (on `connection` when given); null (or absent) when erased. */
  forReading(subjects: readonly string[], connection?: Pick<pg.ClientBase, 'query'>): Promise<ReadonlyMap<string, Buffer | null>>;
}

/** Keys cached for writers; beyond this many the oldest are dropped (and read again when needed). */
const writeCacheSize = 100_000;

/**
 * `SubjectKeys` on PostgreSQL.
 *
 * @example
 * const keys = createPostgresSubjectKeys(pool);
 * const sealing = await keys.forWriting([userId]);
 */
export const createPostgresSubjectKeys = (pool: pg.Pool): SubjectKeys => {
  const cache = new Map<string, Buffer | null>();
  const remember = (subject: string, key: Buffer | null) => {
    if (cache.size >= writeCacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(subject, key);
  };
  const read = async (subjects: readonly string[], db: Pick<pg.ClientBase, 'query'> = pool): Promise<Map<string, Buffer | null>> => {
    const { rows } = await db.query<{ subject_id: string; key: Buffer | null }>(
      'SELECT subject_id, key FROM subject_keys WHERE subject_id = ANY($1::text[])',
      [subjects],
    );
    return new Map(rows.map((row) => [row.subject_id, row.key]));
  };
  return {
    async forWriting(subjects) {
      const missing = [...new Set(subjects)].filter((subject) => !cache.has(subject));
      if (missing.length > 0) {
        // Insert-if-absent, then read: a concurrent creator's key (or an erasure's tombstone) wins.
        await pool.query(
          `INSERT INTO subject_keys (subject_id, key)
           SELECT s, k FROM unnest($1::text[], $2::bytea[]) AS t(s, k)
           ON CONFLICT (subject_id) DO NOTHING`,
          [missing, missing.map(() => randomBytes(32))],
        );
        for (const [subject, key] of await read(missing)) remember(subject, key);
      }
      return new Map(subjects.map((subject) => [subject, cache.get(subject) ?? null]));
    },
    forReading: (subjects, connection) => (subjects.length === 0 ? Promise.resolve(new Map()) : read([...new Set(subjects)], connection)),
  };
};

/** How the store treats personal data: which fields, whose key, and how IPs are made searchable. */
export interface PersonalDataCodec {
  readonly personalDataOf: (event: DomainEvent) => PersonalData;
  /** A keyed hash of an IP address: what the audit filter by IP matches, whether the IP is sealed or erased. */
  readonly ipDigest: (ip: string) => string;
  readonly keys: SubjectKeys;
  /**
   * False writes personal fields in clear (the subject is still recorded): only to measure what
   * sealing costs (`EVENT_LOG_INTEGRITY=off`, for `pnpm bench`); such fields can never be erased.
   */
  readonly seal?: boolean;
}

/** An event as the log stores it: personal fields sealed. */
export interface EncodedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  readonly subject: string | null;
}

/** Seals an event's personal fields and its metadata's IP and user agent with its subject's key. */
export const encodeEvent = (
  codec: PersonalDataCodec,
  keys: ReadonlyMap<string, Buffer | null>,
  eventId: string,
  event: DomainEvent,
  metadata: EventMetadata,
): EncodedEvent => {
  const { subject, fields } = codec.personalDataOf(event);
  const withDigest: Record<string, unknown> = { ...metadata, ...(metadata.ip === undefined ? {} : { ipDigest: codec.ipDigest(metadata.ip) }) };
  if (subject === null || codec.seal === false) return { id: eventId, type: event.type, data: { ...event.data }, metadata: withDigest, subject };
  const key = keys.get(subject) ?? null;
  return {
    id: eventId,
    type: event.type,
    data: sealFields({ ...event.data }, fields, key, `${eventId}:data`),
    metadata: sealFields(withDigest, personalMetadataFields, key, `${eventId}:metadata`),
    subject,
  };
};

type StoredEvent = { readonly eventId: string; readonly subject: string | null; readonly data: object; readonly metadata: object };

const keyOf = (keys: ReadonlyMap<string, Buffer | null>, stored: StoredEvent) => (stored.subject === null ? null : keys.get(stored.subject));

/** Opens the data `encodeEvent` sealed; fields whose key is gone read as `erasedValue`. */
export const decodeData = (keys: ReadonlyMap<string, Buffer | null>, stored: StoredEvent): Record<string, unknown> =>
  openFields(stored.data as Record<string, unknown>, keyOf(keys, stored), `${stored.eventId}:data`);

/** Opens the metadata `encodeEvent` sealed, without the IP's digest (for matching only). */
export const decodeMetadata = (keys: ReadonlyMap<string, Buffer | null>, stored: StoredEvent): EventMetadata => {
  const { ipDigest: _, ...metadata } = openFields(stored.metadata as Record<string, unknown>, keyOf(keys, stored), `${stored.eventId}:metadata`);
  return metadata as unknown as EventMetadata;
};

/** The subjects whose keys are needed to open these stored events. */
export const sealedSubjects = (rows: readonly { readonly subject: string | null; readonly data: object; readonly metadata: object }[]): string[] => [
  ...new Set(
    rows.flatMap((row) =>
      row.subject !== null && (sealedKey in row.data || sealedKey in row.metadata) ? [row.subject] : [],
    ),
  ),
];
