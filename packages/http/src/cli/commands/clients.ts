import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ClientNotFoundError, defaultSecretOverlapSeconds, listClients, minClientSecretLength, registerClient, rotateClientSecret, type ClientView } from '@pos-auth/domain';
import { readStdin } from '../database.js';
import { CommandRefusedError } from '../errors.js';
import { operatorContext, withOperatorDeps } from '../operator.js';
import { table } from '../table.js';

/** 256 bits from the system's CSPRNG, URL-safe: as strong as any secret a client can be given. */
const generateSecret = (): string => randomBytes(32).toString('base64url');

const shownOnce = (secret: string) => `The secret, shown only this once (the service keeps only its digest):\n${secret}`;

/**
 * The secret a command sets: the argument, else a generated one (`--generate-secret`), else
 * standard input (which keeps it out of `ps` and the shell's history).
 */
const secretOf = async (given: string | undefined, generate: boolean, command: Command) => {
  if (given !== undefined && generate) command.error('error: give a secret or --generate-secret, not both', { exitCode: 2, code: 'pos-auth.secretTwice' });
  if (generate) return { secret: generateSecret(), generated: true };
  return { secret: given ?? (await readStdin()), generated: false };
};

/** `--overlap`: whole seconds from 0 (a usage error otherwise). */
const parseOverlap = (value: string): number => {
  if (!/^\d{1,10}$/u.test(value) || Number(value) > 2 ** 31 - 1) throw new InvalidArgumentError('must be a whole number of seconds from 0 to 2147483647');
  return Number(value);
};

const add = async (clientId: string, secret: string | undefined, options: { readonly generateSecret?: boolean }, command: Command) => {
  const chosen = await secretOf(secret, options.generateSecret === true, command);
  await withOperatorDeps(async (deps) => {
    await registerClient(deps, { clientId, clientSecret: chosen.secret }, operatorContext());
    console.log(`Registered client ${clientId}.`);
    if (chosen.generated) console.log(shownOnce(chosen.secret));
  });
};

const clientResource = (client: ClientView) => ({ client_id: client.clientId, registered_at: client.registeredAt, secret_rotated_at: client.secretRotatedAt });

const list = (options: { readonly format: 'table' | 'json' }) =>
  withOperatorDeps(async (deps) => {
    const clients = await listClients(deps);
    if (options.format === 'json') {
      console.log(JSON.stringify(clients.map(clientResource), null, 2));
      return;
    }
    process.stdout.write(
      table<ClientView>(
        [
          { title: 'client_id', of: (client) => client.clientId },
          { title: 'registered_at', of: (client) => client.registeredAt },
          { title: 'secret_rotated_at', of: (client) => client.secretRotatedAt },
        ],
        clients,
      ),
    );
  });

const rotate = async (clientId: string, options: { readonly overlap: number; readonly generateSecret?: boolean }, command: Command) => {
  const chosen = await secretOf(undefined, options.generateSecret === true, command);
  await withOperatorDeps(async (deps) => {
    const { previousSecretValidUntil } = await rotateClientSecret(deps, { clientId, newSecret: chosen.secret, overlapSeconds: options.overlap }, operatorContext()).catch(
      (error: unknown) => {
        throw error instanceof ClientNotFoundError ? new CommandRefusedError(`No client "${clientId}" is registered.`) : error;
      },
    );
    console.log(
      options.overlap === 0
        ? `Client ${clientId} has a new secret; the one it replaced no longer works.`
        : `Client ${clientId} has a new secret; the one it replaced keeps working until ${previousSecretValidUntil} (${options.overlap} s), then no more.`,
    );
    if (chosen.generated) console.log(shownOnce(chosen.secret));
  });
};

/** `clients add|list|rotate-secret`, and `register-client`, the old name of `clients add`. */
export const registerClientCommands = (program: Command): void => {
  const clients = program.command('clients').description('the OAuth clients that may call the token endpoints (their secrets are kept as digests only)');
  const secretHelp =
    "The secret is read from standard input (keeps it out of ps and the shell's history) unless\n" +
    `given as an argument or generated. A secret has at least ${minClientSecretLength} characters.`;

  clients
    .command('add')
    .description('register an OAuth client')
    .argument('<client_id>', 'the client id')
    .argument('[secret]', 'the client secret (prefer standard input)')
    .option('--generate-secret', 'generate a strong random secret and print it, once')
    .addHelpText('after', `\n${secretHelp}`)
    .action(add);

  clients
    .command('list')
    .description('the registered clients: id, registration and last secret rotation (never a secret or a digest)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(list);

  clients
    .command('rotate-secret')
    .description('give a client a new secret; the one it replaces keeps working for --overlap seconds (recorded as ClientSecretRotated)')
    .argument('<client_id>', 'the client id')
    .option('--overlap <seconds>', 'how long the replaced secret keeps working, for the client\'s deployments to switch; 0: it stops at once', parseOverlap, defaultSecretOverlapSeconds)
    .option('--generate-secret', 'generate a strong random new secret and print it, once')
    .addHelpText(
      'after',
      `\nThe new secret is read from standard input unless generated. A secret has at least ${minClientSecretLength} characters.\n` +
        'Rotating again during an overlap ends it: only the secret just replaced keeps working.',
    )
    .action(rotate);

  program
    .command('register-client', { hidden: true })
    .description('the old name of `clients add`')
    .argument('<client_id>', 'the client id')
    .argument('[secret]', 'the client secret (prefer standard input)')
    .option('--generate-secret', 'generate a strong random secret and print it, once')
    .action(add);
};
