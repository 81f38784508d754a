import type { EventMetadata, RecordedEvent } from '@pos-auth/domain';
import type { ClientBase } from 'pg';
import { decodeData, decodeMetadata, sealedSubjects, type SubjectKeys } from './personal-data.js';

/** The columns of `events` that make a `RecordedEvent`, as `SELECT eventColumns FROM events`. */
export const eventColumns =
  'event_id, stream_id, stream_position, global_position::text AS global_position, type, data, metadata, recorded_at, subject_id';

export interface EventRow {
  readonly event_id: string;
  readonly stream_id: string;
  readonly stream_position: number;
  /** Selected as text: exact whatever int8 parser the caller's pool has. */
  readonly global_position: string;
  readonly type: string;
  readonly data: object;
  readonly metadata: object;
  readonly recorded_at: Date;
  readonly subject_id: string | null;
}

/**
 * Turns stored rows into events, personal fields opened with keys read from the database (one
 * query per call): erased people's fields read as erased. The keys are read at once; `data` and
 * `metadata` are opened when first read and kept, since most readers (a decision loading its
 * stream, a rebuild) never look at most events' metadata, and opening a sealed box costs a cipher.
 */
export const toRecordedEvents = async (
  keys: SubjectKeys,
  rows: readonly EventRow[],
  connection?: Pick<ClientBase, 'query'>,
): Promise<RecordedEvent[]> => {
  const stored = rows.map((row) => ({ eventId: row.event_id, subject: row.subject_id, data: row.data, metadata: row.metadata }));
  const opened = await keys.forReading(sealedSubjects(stored), connection);
  return rows.map((row, index) => {
    const sealed = stored[index]!;
    let data: Record<string, unknown> | undefined;
    let metadata: EventMetadata | undefined;
    return Object.defineProperties(
      {
        eventId: row.event_id,
        streamId: row.stream_id,
        streamPosition: row.stream_position,
        globalPosition: BigInt(row.global_position),
        type: row.type,
        recordedAt: row.recorded_at,
      },
      {
        data: { enumerable: true, get: () => (data ??= decodeData(opened, sealed)) },
        metadata: { enumerable: true, get: () => (metadata ??= decodeMetadata(opened, sealed)) },
      },
    ) as RecordedEvent;
  });
};
