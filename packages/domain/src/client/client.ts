import { assertNever } from '../shared/assert-never.js';
import type { Decider } from '../shared/decider.js';
import { ClientAlreadyRegisteredError, ClientNotFoundError } from '../shared/errors.js';
import type { DomainEvent } from '../shared/event.js';
import type { ClientId } from '../shared/ids.js';

/** An OAuth client (the admin panel, a service). Its secret's digest is kept outside the log. */
export type ClientRegistered = DomainEvent<
  'ClientRegistered',
  { readonly clientId: ClientId; readonly registeredAt: string }
>;

/**
 * The client's secret was replaced. The new secret's digest, like the old one's, is kept outside
 * the log; the replaced secret keeps working until `previousSecretValidUntil` (an overlap in which
 * the client's deployments switch), then no more.
 */
export type ClientSecretRotated = DomainEvent<
  'ClientSecretRotated',
  { readonly clientId: ClientId; readonly rotatedAt: string; readonly previousSecretValidUntil: string }
>;

export type ClientEvent = ClientRegistered | ClientSecretRotated;

export type Client = { readonly status: 'unregistered' } | { readonly status: 'active'; readonly clientId: ClientId };

export const initialClient: Client = { status: 'unregistered' };

export type ClientCommand =
  | { readonly type: 'RegisterClient'; readonly data: ClientRegistered['data'] }
  | { readonly type: 'RotateClientSecret'; readonly data: { readonly now: string; readonly overlapSeconds: number } };

export const evolve = (state: Client, event: ClientEvent): Client => {
  switch (event.type) {
    case 'ClientRegistered':
      return { status: 'active', clientId: event.data.clientId };
    case 'ClientSecretRotated':
      return state;
    default:
      return assertNever(event);
  }
};

export const decide = (command: ClientCommand, state: Client): ClientEvent[] => {
  switch (command.type) {
    case 'RegisterClient':
      if (state.status !== 'unregistered') throw new ClientAlreadyRegisteredError(command.data.clientId);
      return [{ type: 'ClientRegistered', data: command.data }];
    case 'RotateClientSecret': {
      if (state.status !== 'active') throw new ClientNotFoundError();
      const { now, overlapSeconds } = command.data;
      if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0) throw new TypeError(`overlapSeconds must be a whole number from 0, got ${overlapSeconds}`);
      const previousSecretValidUntil = new Date(Date.parse(now) + overlapSeconds * 1000).toISOString();
      return [{ type: 'ClientSecretRotated', data: { clientId: state.clientId, rotatedAt: now, previousSecretValidUntil } }];
    }
    default:
      return assertNever(command);
  }
};

export const clientDecider: Decider<ClientCommand, ClientEvent, Client> = {
  initialState: initialClient,
  evolve,
  decide,
  stateSchema: 1,
};
