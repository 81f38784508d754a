import type { Decider } from '../shared/decider.js';
import type { DomainEvent } from '../shared/event.js';
import type { EventStore, ExpectedVersion, StreamHead, StreamWrite } from '../ports.js';

/** An aggregate as loaded for a decision: its stream, the version decided on, and its state. */
export interface Loaded<State> {
  readonly streamId: string;
  readonly version: number;
  readonly state: State;
}

/**
 * The aggregate's state from its head: the snapshot when it is of the decider's schema and
 * current; the snapshot plus the events after it when it lags; the whole stream otherwise. So a
 * decision costs one read however old the stream, as long as its writers keep snapshots.
 */
export const fromHead = async <C, E extends DomainEvent, S>(
  store: Pick<EventStore, 'readStream'>,
  decider: Decider<C, E, S>,
  streamId: string,
  head: StreamHead,
): Promise<Loaded<S>> => {
  const snapshot = head.snapshot?.schema === decider.stateSchema ? head.snapshot : null;
  if (snapshot !== null && snapshot.version === head.version) {
    return { streamId, version: head.version, state: snapshot.state as S };
  }
  if (head.version === 0) return { streamId, version: 0, state: decider.initialState };
  const base = snapshot ?? { version: 0, state: decider.initialState };
  const { version, events } = await store.readStream<E>(streamId, { fromPosition: base.version + 1 });
  const state = events.reduce((current, event) => decider.evolve(current, event as unknown as E), base.state as S);
  return { streamId, version, state };
};

/** Reads the stream's head and builds the aggregate from it. */
export const load = async <C, E extends DomainEvent, S>(
  store: Pick<EventStore, 'readStream' | 'readHead'>,
  decider: Decider<C, E, S>,
  streamId: string,
): Promise<Loaded<S>> => fromHead(store, decider, streamId, await store.readHead(streamId));

/** The append of `events` to a loaded aggregate: expects the version it was decided on, stores the new state. */
export const writeOf = <C, E extends DomainEvent, S>(
  decider: Decider<C, E, S>,
  loaded: Loaded<S>,
  events: readonly E[],
  extra: Pick<StreamWrite, 'claims' | 'releaseClaims'> = {},
): StreamWrite & { readonly state: S } => {
  const state = events.reduce(decider.evolve, loaded.state);
  const expectedVersion: ExpectedVersion = loaded.version === 0 ? 'no_stream' : loaded.version;
  return {
    streamId: loaded.streamId,
    events,
    expectedVersion,
    snapshot: { schema: decider.stateSchema, state },
    state,
    ...extra,
  };
};

/** A new stream: nothing loaded, the initial state. */
export const fresh = <C, E extends DomainEvent, S>(decider: Decider<C, E, S>, streamId: string): Loaded<S> => ({
  streamId,
  version: 0,
  state: decider.initialState,
});
