import type { DomainEvent } from './event.js';

/**
 * An aggregate as three pure functions over a tagged-union state. `stateSchema` is bumped whenever
 * the state's shape changes: a stored snapshot of another schema is ignored and the stream replayed.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  readonly initialState: State;
  readonly evolve: (state: State, event: Event) => State;
  readonly decide: (command: Command, state: State) => Event[];
  readonly stateSchema: number;
}
