import type { Command } from 'commander';
import { registerClient } from '@pos-auth/domain';
import { createPosAuthPersistence, createSha256Digester, systemClock } from '@pos-auth/infrastructure';
import { readStdin, withDatabase } from '../database.js';

/** `register-client`. */
export const registerClientCommands = (program: Command): void => {
  program
    .command('register-client')
    .description('register an OAuth client; the secret is read from standard input when not given (keeps it out of ps)')
    .argument('<client_id>', 'the client id')
    .argument('[secret]', 'the client secret')
    .action((clientId: string, secret: string | undefined) =>
      withDatabase(async ({ pool }) => {
        const clientSecret = secret ?? (await readStdin());
        const { eventStore } = await createPosAuthPersistence(pool);
        await registerClient({ eventStore, digester: createSha256Digester(), clock: systemClock }, { clientId, clientSecret }, { requestId: 'cli' });
        console.log(`Registered client ${clientId}.`);
      }),
    );
};
