import { assertNever } from '../shared/assert-never.js';
import type { Decider } from '../shared/decider.js';
import { ClientAlreadyRegisteredError } from '../shared/errors.js';
import type { DomainEvent } from '../shared/event.js';
import type { ClientId } from '../shared/ids.js';

/** An OAuth client (the admin panel, a service). Its secret's digest is kept outside the log. */
export type ClientRegistered = DomainEvent<
  'ClientRegistered',
  { readonly clientId: ClientId; readonly registeredAt: string }
>;

export type ClientEvent = ClientRegistered;

export type Client = { readonly status: 'unregistered' } | { readonly status: 'active'; readonly clientId: ClientId };

export const initialClient: Client = { status: 'unregistered' };

export type ClientCommand = { readonly type: 'RegisterClient'; readonly data: ClientRegistered['data'] };

export const evolve = (_state: Client, event: ClientEvent): Client => {
  switch (event.type) {
    case 'ClientRegistered':
      return { status: 'active', clientId: event.data.clientId };
    default:
      return assertNever(event.type);
  }
};

export const decide = (command: ClientCommand, state: Client): ClientEvent[] => {
  switch (command.type) {
    case 'RegisterClient':
      if (state.status !== 'unregistered') throw new ClientAlreadyRegisteredError(command.data.clientId);
      return [{ type: 'ClientRegistered', data: command.data }];
    default:
      return assertNever(command.type);
  }
};

export const clientDecider: Decider<ClientCommand, ClientEvent, Client> = {
  initialState: initialClient,
  evolve,
  decide,
  stateSchema: 1,
};
