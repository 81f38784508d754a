import { describe, expect, it } from 'vitest';
import type { Decider } from '../shared/decider.js';
import type { DomainEvent, RecordedEvent } from '../shared/event.js';
import type { EventStore, StreamHead } from '../ports.js';
import { fromHead, writeOf } from './streams.js';

type Added = DomainEvent<'Added', { readonly n: number }>;
const counter: Decider<never, Added, { readonly total: number }> = {
  initialState: { total: 0 },
  evolve: (state, event) => ({ total: state.total + event.data.n }),
  decide: () => [],
  stateSchema: 2,
};

/** A stream of `Added` events 1..n, and a record of the reads made of it. */
const streamOf = (n: number) => {
  const reads: number[] = [];
  const events = Array.from({ length: n }, (_, i) => ({ type: 'Added', data: { n: i + 1 }, streamPosition: i + 1 }) as unknown as RecordedEvent<Added>);
  const store: Pick<EventStore, 'readStream'> = {
    readStream: async (_id, options) => {
      const from = options?.fromPosition ?? 1;
      reads.push(from);
      return { version: n, events: events.slice(from - 1) as never };
    },
  };
  return { store, reads };
};

describe('fromHead: a decision reads the snapshot, and only what it lacks', () => {
  it.each<[string, StreamHead, number[], number]>([
    ['a current snapshot: no read at all', { version: 4, snapshot: { schema: 2, version: 4, state: { total: 10 } } }, [], 10],
    ['a lagging snapshot: the events after it', { version: 4, snapshot: { schema: 2, version: 2, state: { total: 3 } } }, [3], 10],
    ['a snapshot of another schema: the whole stream', { version: 4, snapshot: { schema: 1, version: 4, state: { wrong: true } } }, [1], 10],
    ['no snapshot: the whole stream', { version: 4, snapshot: null }, [1], 10],
    ['no stream: the initial state, no read', { version: 0, snapshot: null }, [], 0],
  ])('%s', async (_, head, expectedReads, total) => {
    const { store, reads } = streamOf(head.version);
    const loaded = await fromHead(store, counter, 's', head);
    expect(loaded).toEqual({ streamId: 's', version: head.version, state: { total } });
    expect(reads).toEqual(expectedReads);
  });

  it('a write expects the version decided on and stores the state after its events', () => {
    const write = writeOf(counter, { streamId: 's', version: 4, state: { total: 10 } }, [{ type: 'Added', data: { n: 5 } } as Added]);
    expect(write).toMatchObject({ streamId: 's', expectedVersion: 4, snapshot: { schema: 2, state: { total: 15 } } });
    expect(writeOf(counter, { streamId: 'n', version: 0, state: { total: 0 } }, [{ type: 'Added', data: { n: 1 } } as Added]).expectedVersion).toBe('no_stream');
  });
});
