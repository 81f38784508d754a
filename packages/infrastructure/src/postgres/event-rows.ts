import type { EventMetadata, RecordedEvent } from '@pos-auth/domain';

/** The columns of `events` that make a `RecordedEvent`, as `SELECT eventColumns FROM events`. */
export const eventColumns =
  'stream_id, stream_position, global_position::text AS global_position, type, data, metadata, recorded_at';

export interface EventRow {
  readonly stream_id: string;
  readonly stream_position: number;
  /** Selected as text: exact whatever int8 parser the caller's pool has. */
  readonly global_position: string;
  readonly type: string;
  readonly data: object;
  readonly metadata: EventMetadata;
  readonly recorded_at: Date;
}

export const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  streamId: row.stream_id,
  streamPosition: row.stream_position,
  globalPosition: BigInt(row.global_position),
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  recordedAt: row.recorded_at,
});
