import { Command, CommanderError } from 'commander';
import { DomainError, ValidationError } from '@pos-auth/domain';
import { isDatabaseUnavailable } from '@pos-auth/infrastructure';
import { ConfigError } from '../config.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerClientCommands } from './commands/clients.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerProjectionCommands } from './commands/projections.js';
import { registerServerCommands } from './commands/server.js';
import { registerUserCommands } from './commands/users.js';
import { CommandRefusedError } from './errors.js';

/**
 * The `pos-auth` command line. Each group of commands is a module of `cli/commands/` exporting a
 * `register...Commands(program)` that adds its commands (with their options, descriptions and
 * actions) to the program; add a new group by writing such a module and calling it here. Actions
 * throw on failure: a `ConfigError`, a `DomainError` or a `CommandRefusedError` is printed as its
 * message (a validation error as its fields, with the rule's code when one rule alone refused), a
 * database that cannot be reached as such, anything else with its stack.
 *
 * @example
 * await createProgram().parseAsync(['node', 'pos-auth', 'audit', 'verify']);
 */
export const createProgram = (): Command => {
  const program = new Command('pos-auth')
    .description('pos-auth, the authentication service of the POS API. Configuration is read from environment variables; see the README.')
    .showHelpAfterError()
    // Usage errors exit with 2, as before; help exits with 0.
    .exitOverride();
  registerServerCommands(program);
  registerClientCommands(program);
  registerUserCommands(program);
  registerKeyCommands(program);
  registerProjectionCommands(program);
  registerAuditCommands(program);
  return program;
};

/** Runs the command line on `argv` and sets the process's exit code. */
export const runCli = async (argv: readonly string[]): Promise<void> => {
  try {
    // No command at all is `start`, as it always was (an unknown one is still an error).
    await createProgram().parseAsync(argv.length <= 2 ? [...argv, 'start'] : [...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof ValidationError) {
      const code = error.code === 'VALIDATION_FAILED' ? '' : ` (${error.code})`;
      console.error(`pos-auth: ${error.errors.map((e) => `${e.path} ${e.message}`).join('; ')}${code}`);
    } else if (error instanceof ConfigError || error instanceof DomainError || error instanceof CommandRefusedError) {
      console.error(`pos-auth: ${error.message}`);
    } else if (isDatabaseUnavailable(error)) {
      // A wrong DATABASE_URL or a server that is down: the operator's to fix, not a bug to trace.
      const { message, code } = error as { message?: string; code?: string };
      console.error(`pos-auth: the database cannot be reached (${message || code || 'no answer'})`);
    } else {
      console.error('pos-auth: failed:', error);
    }
    process.exitCode = 1;
  }
};
