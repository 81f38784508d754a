import { describe, expect, it } from 'vitest';
import { ClientAlreadyRegisteredError } from '../shared/errors.js';
import { ClientId } from '../shared/ids.js';
import { decide, evolve, initialClient } from './client.js';

describe('client decider', () => {
  const command = { type: 'RegisterClient', data: { clientId: ClientId('panel'), registeredAt: '2026-01-01T00:00:00.000Z' } } as const;

  it('given nothing, when RegisterClient, then ClientRegistered', () => {
    expect(decide(command, initialClient)).toEqual([{ type: 'ClientRegistered', data: command.data }]);
  });

  it('given a registered client, when RegisterClient again, then ClientAlreadyRegistered', () => {
    const state = decide(command, initialClient).reduce(evolve, initialClient);
    expect(() => decide(command, state)).toThrow(ClientAlreadyRegisteredError);
  });
});
