import { Option, type Command } from 'commander';
import {
  LastAdminError,
  UserId,
  UserNotFoundError,
  getUser,
  listUsers,
  operatorPrincipal,
  passwordPolicy,
  registerUser,
  roles,
  updateUser,
  userNameKeyOf,
  type AuthDeps,
  type Role,
  type UserView,
} from '@pos-auth/domain';
import { userResourceOf } from '../../resources.js';
import { readPasswordFromStdin } from '../database.js';
import { CommandRefusedError } from '../errors.js';
import { operatorContext, withOperatorDeps } from '../operator.js';
import { progressBar } from '../progress.js';
import { table } from '../table.js';

/** Users read per page by `users list`: `GET /users`'s largest page. */
export const userPageSize = 200;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/**
 * The user a command names: by id when it is a UUID that is one, else by user name, compared as
 * logins compare names (`ALICE` is alice). The first page of names starting with it begins with
 * the name itself when an account has it: pages are ordered by that comparison form.
 */
const findUser = async (deps: AuthDeps, reference: string): Promise<UserView> => {
  if (uuidPattern.test(reference)) {
    try {
      return await getUser(deps, operatorPrincipal, UserId(reference.toLowerCase()));
    } catch (error) {
      if (!(error instanceof UserNotFoundError)) throw error;
    }
  }
  const [first] = (await listUsers(deps, operatorPrincipal, { q: reference, limit: 1, cursor: null })).items;
  if (first !== undefined && userNameKeyOf(first.userName) === userNameKeyOf(reference)) return first;
  throw new CommandRefusedError(`No user has the name or id "${reference}".`);
};

const createAdmin = async (userName: string, options: { readonly email?: string; readonly name?: string }) => {
  const password = await readPasswordFromStdin();
  await withOperatorDeps(async (deps) => {
    const user = await registerUser(
      deps,
      { userName, password, email: options.email ?? null, name: options.name ?? null, role: 'admin' },
      { principal: operatorPrincipal, clientId: operatorPrincipal.clientId },
      operatorContext(),
    );
    console.log(`Created admin ${user.userName} (id ${user.id}).`);
  });
};

const disable = (reference: string) =>
  withOperatorDeps(async (deps) => {
    const user = await findUser(deps, reference);
    if (user.disabled) {
      console.log(`User ${user.userName} (id ${user.id}) was already disabled.`);
      return;
    }
    try {
      await updateUser(deps, operatorPrincipal, user.id, { disabled: true }, operatorContext());
    } catch (error) {
      if (!(error instanceof LastAdminError)) throw error;
      throw new CommandRefusedError(
        `${user.userName} is the last active admin, and the last active admin cannot be disabled: make another admin first (pos-auth users create-admin).`,
      );
    }
    console.log(`Disabled user ${user.userName} (id ${user.id}): they can no longer log in, and their sessions have ended.`);
  });

interface ListOptions {
  readonly role?: Role;
  readonly disabled?: boolean;
  readonly format: 'table' | 'json';
}

const list = (options: ListOptions) =>
  withOperatorDeps(async (deps) => {
    const users: UserView[] = [];
    const progress = progressBar();
    try {
      let cursor: string | null = null;
      do {
        const page = await listUsers(deps, operatorPrincipal, { limit: userPageSize, cursor, role: options.role, disabled: options.disabled });
        users.push(...page.items);
        progress.count('users read', users.length);
        cursor = page.nextCursor;
      } while (cursor !== null);
    } finally {
      progress.stop();
    }
    if (options.format === 'json') {
      console.log(JSON.stringify(users.map(userResourceOf), null, 2));
      return;
    }
    process.stdout.write(
      table<UserView>(
        [
          { title: 'user_name', of: (user) => user.userName },
          { title: 'role', of: (user) => user.role },
          { title: 'disabled', of: (user) => String(user.disabled) },
          { title: 'email', of: (user) => user.email },
          { title: 'created_at', of: (user) => user.createdAt },
          { title: 'id', of: (user) => user.id },
        ],
        users,
      ),
    );
  });

/** `users create-admin|disable|list`: the accounts, as an admin manages them, from the command line. */
export const registerUserCommands = (program: Command): void => {
  const users = program
    .command('users')
    .description('the accounts, managed as an admin would (recorded as done by "operator", client "pos-auth-cli")');

  users
    .command('create-admin')
    .description('create an account with the admin role; the password is read from standard input')
    .argument('<user_name>', 'the new account\'s user name')
    .option('--email <address>', 'its email address')
    .option('--name <display_name>', 'its display name')
    .addHelpText(
      'after',
      "\nThe password is read from standard input (keeps it out of ps and the shell's history); only the\n" +
        'line break that ends it is dropped. The password policy applies: at least ' +
        `${passwordPolicy.minCharacters} characters, at most ${passwordPolicy.maxBytes} bytes,\n` +
        'not a common password (PASSWORD_TOO_COMMON), not containing the user name\n' +
        '(PASSWORD_CONTAINS_USER_NAME). A refusal exits with 1.',
    )
    .action(createAdmin);

  users
    .command('disable')
    .description('disable an account: its logins are refused and its sessions end at once (the last active admin cannot be)')
    .argument('<user>', 'the user name, or the user id')
    .action(disable);

  users
    .command('list')
    .description('every account matching the filters, ordered by user name (never a password or its hash)')
    .addOption(new Option('--role <role>', 'only accounts with this role').choices(roles))
    .option('--disabled', 'only disabled accounts')
    .option('--no-disabled', 'only accounts that are not disabled')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(list);
};
