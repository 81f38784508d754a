import { ClaimTakenError, ClientAlreadyRegisteredError, ClientNotFoundError, InvalidClientError, ValidationError, WrongExpectedVersionError } from '../shared/errors.js';
import { ClientId, clientStreamId } from '../shared/ids.js';
import { clientDecider } from '../client/client.js';
import type { ClientView } from '../ports.js';
import { metadataFor, retryOnConflict, type AuthDeps, type RequestContext } from './deps.js';
import { fresh, load, writeOf } from './streams.js';

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

/**
 * Checks client credentials in constant time: the current secret, or during a rotation's overlap
 * the one it replaced (both are compared whatever the first answers, so timing tells nothing).
 * One error whatever was wrong; the reason is for the log.
 */
export const authenticateClient = async (
  deps: Pick<AuthDeps, 'clients' | 'digester' | 'clock'>,
  input: ClientCredentialsInput,
): Promise<ClientId> => {
  const clientId = ClientId(input.clientId);
  const secrets = await deps.clients.findClientSecrets(clientId);
  if (secrets === null) throw new InvalidClientError('unknown_client');
  const current = deps.digester.matches(input.clientSecret, secrets.current);
  const previous = secrets.previous !== null && deps.digester.matches(input.clientSecret, secrets.previous.digest);
  if (current) return clientId;
  if (previous && deps.clock.now().getTime() < secrets.previous!.validUntil.getTime()) return clientId;
  throw new InvalidClientError(previous ? 'rotated_client_secret_past_its_overlap' : 'wrong_client_secret');
};

/** How long a rotated-away secret keeps working by default: a day for the client's deployments to switch. */
export const defaultSecretOverlapSeconds = 24 * 60 * 60;

/**
 * Gives a client a new secret; the one it replaces keeps working for `overlapSeconds` (a rotation
 * whose overlap is still running is replaced: only the latest secret before the new one stays
 * valid). Recorded as `ClientSecretRotated`; the digests stay outside the log.
 */
export const rotateClientSecret = async (
  deps: Pick<AuthDeps, 'eventStore' | 'clients' | 'digester' | 'clock' | 'backoff'>,
  input: { readonly clientId: string; readonly newSecret: string; readonly overlapSeconds?: number },
  context: RequestContext,
): Promise<{ readonly previousSecretValidUntil: string }> => {
  if (input.newSecret.length < minClientSecretLength) {
    throw new ValidationError([{ path: 'client_secret', message: `must be at least ${minClientSecretLength} characters long` }]);
  }
  const clientId = ClientId(input.clientId);
  return retryOnConflict(deps, async () => {
    const client = await load(deps.eventStore, clientDecider, clientStreamId(clientId));
    const secrets = await deps.clients.findClientSecrets(clientId);
    const now = deps.clock.now();
    const events = clientDecider.decide(
      { type: 'RotateClientSecret', data: { now: now.toISOString(), overlapSeconds: input.overlapSeconds ?? defaultSecretOverlapSeconds } },
      client.state,
    );
    if (secrets === null) throw new ClientNotFoundError();
    const [rotated] = events;
    const previousSecretValidUntil = rotated!.type === 'ClientSecretRotated' ? rotated!.data.previousSecretValidUntil : now.toISOString();
    await deps.eventStore.append([writeOf(clientDecider, client, events)], {
      metadata: metadataFor(context, now, { clientId }),
      credentials: [
        {
          kind: 'client_secret',
          clientId,
          digest: deps.digester.digest(input.newSecret),
          previous: { digest: secrets.current, validUntil: previousSecretValidUntil },
        },
      ],
    });
    return { previousSecretValidUntil };
  });
};

/** The registered clients, for operators. */
export const listClients = (deps: Pick<AuthDeps, 'clients'>): Promise<ClientView[]> => deps.clients.listClients();
