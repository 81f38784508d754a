import { ClaimTakenError, ClientAlreadyRegisteredError, InvalidClientError, ValidationError, WrongExpectedVersionError } from '../shared/errors.js';
import { ClientId, clientStreamId } from '../shared/ids.js';
import { clientDecider } from '../client/client.js';
import { metadataFor, type AuthDeps, type RequestContext } from './deps.js';
import { fresh, writeOf } from './streams.js';

export interface ClientCredentialsInput {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** The secret is a shared secret of the operator's choosing; at least this long. */
export const minClientSecretLength = 8;

/**
 * Registers an OAuth client. The secret's SHA-256 digest goes to the credentials table in the
 * append's transaction; the log records only that the client exists.
 */
export const registerClient = async (
  deps: Pick<AuthDeps, 'eventStore' | 'digester' | 'clock'>,
  input: ClientCredentialsInput,
  context: RequestContext,
): Promise<ClientId> => {
  if (input.clientId.length === 0 || input.clientId.length > 128) {
    throw new ValidationError([{ path: 'client_id', message: 'must be 1 to 128 characters long' }]);
  }
  if (input.clientSecret.length < minClientSecretLength) {
    throw new ValidationError([{ path: 'client_secret', message: `must be at least ${minClientSecretLength} characters long` }]);
  }
  const clientId = ClientId(input.clientId);
  const now = deps.clock.now();
  const events = clientDecider.decide({ type: 'RegisterClient', data: { clientId, registeredAt: now.toISOString() } }, clientDecider.initialState);
  try {
    await deps.eventStore.append([writeOf(clientDecider, fresh(clientDecider, clientStreamId(clientId)), events)], {
      metadata: metadataFor(context, now, { clientId }),
      credentials: [{ kind: 'client_secret', clientId, digest: deps.digester.digest(input.clientSecret) }],
    });
  } catch (error) {
    if (error instanceof WrongExpectedVersionError || error instanceof ClaimTakenError) {
      throw new ClientAlreadyRegisteredError(clientId);
    }
    throw error;
  }
  return clientId;
};

/** Checks client credentials in constant time; one error whatever was wrong, the reason for the log. */
export const authenticateClient = async (
  deps: Pick<AuthDeps, 'clients' | 'digester'>,
  input: ClientCredentialsInput,
): Promise<ClientId> => {
  const clientId = ClientId(input.clientId);
  const digest = await deps.clients.findClientSecretDigest(clientId);
  if (digest === null) throw new InvalidClientError('unknown_client');
  if (!deps.digester.matches(input.clientSecret, digest)) throw new InvalidClientError('wrong_client_secret');
  return clientId;
};
