import { describe, expect, it } from 'vitest';
import { ClientAlreadyRegisteredError, ClientNotFoundError } from '../shared/errors.js';
import { ClientId } from '../shared/ids.js';
import { decide, evolve, initialClient, type ClientRegistered } from './client.js';

const registered: ClientRegistered = { type: 'ClientRegistered', data: { clientId: ClientId('panel'), registeredAt: '2026-01-01T00:00:00.000Z' } };

describe('client decider', () => {
  it('given nothing, when RegisterClient, then ClientRegistered; a second registration is refused', () => {
    expect(decide({ type: 'RegisterClient', data: registered.data }, initialClient)).toEqual([registered]);
    expect(() => decide({ type: 'RegisterClient', data: registered.data }, evolve(initialClient, registered))).toThrow(ClientAlreadyRegisteredError);
  });

  it('given a client, when its secret rotates, then ClientSecretRotated with the end of the overlap', () => {
    expect(decide({ type: 'RotateClientSecret', data: { now: '2026-01-02T00:00:00.000Z', overlapSeconds: 3600 } }, evolve(initialClient, registered))).toEqual([
      { type: 'ClientSecretRotated', data: { clientId: 'panel', rotatedAt: '2026-01-02T00:00:00.000Z', previousSecretValidUntil: '2026-01-02T01:00:00.000Z' } },
    ]);
  });

  it('refuses to rotate the secret of no client, and a negative overlap as a programmer error', () => {
    expect(() => decide({ type: 'RotateClientSecret', data: { now: '2026-01-02T00:00:00.000Z', overlapSeconds: 0 } }, initialClient)).toThrow(ClientNotFoundError);
    expect(() => decide({ type: 'RotateClientSecret', data: { now: '2026-01-02T00:00:00.000Z', overlapSeconds: -1 } }, evolve(initialClient, registered))).toThrow(TypeError);
  });
});
