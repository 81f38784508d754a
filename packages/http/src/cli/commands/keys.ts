import type { Command } from 'commander';
import { defaultActivationDelaySeconds } from '@pos-auth/infrastructure';
import { loadConfig } from '../../config.js';
import { parseActivateIn, rotateKeysCommand } from '../../keys-command.js';
import { withDatabase } from '../database.js';

/** `keys rotate`: the signing keys of JWT access tokens. */
export const registerKeyCommands = (program: Command): void => {
  const keys = program.command('keys').description('the signing keys of JWT access tokens (ACCESS_TOKEN_FORMAT=jwt)');
  keys
    .command('rotate')
    .description('make a new signing key: published at once, signing from --activate-in seconds on; prints key ids, never a key')
    .option('--activate-in <seconds>', `seconds until the new key signs (default ${defaultActivationDelaySeconds}: every instance and JWKS cache learns it first)`)
    .action((options: { activateIn?: string }) => {
      const activateInSeconds = parseActivateIn(options.activateIn);
      return withDatabase(async ({ pool }) => console.log(await rotateKeysCommand(pool, loadConfig(), { activateInSeconds })));
    });
};
