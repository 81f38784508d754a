/** A fact, as the domain emits it: a stable past-tense `type` and a JSON payload. */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

/** Who caused an event, and from where. Written beside every event; never holds secrets. */
export interface EventMetadata {
  readonly requestId: string;
  readonly occurredAt: string;
  readonly clientId?: string | undefined;
  readonly actorUserId?: string | undefined;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
}

/** An event as read back from the log. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  /** Unique per event, for consumers that must apply each event once. */
  readonly eventId: string;
  readonly streamId: string;
  readonly streamPosition: number;
  readonly globalPosition: bigint;
  readonly type: E['type'];
  readonly data: E['data'];
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
}

/**
 * What a personal field reads as once its owner was erased (crypto-shredding): the event, its
 * order and its integrity remain; the value is gone for good.
 */
export const erasedValue = '[erased]';
