import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../shared/errors.js';
import { ClientId, SessionId, UserId } from '../shared/ids.js';
import type { Page, UserListQuery, UserView } from '../ports.js';
import type { Role } from '../user/role.js';
import { requireAdmin, requireSelfOrAdmin } from './access.js';
import type { AuthDeps, Principal } from './deps.js';
import { listUsers } from './manage-users.js';

const me = UserId('00000000-0000-4000-8000-000000000001');
const someoneElse = UserId('00000000-0000-4000-8000-000000000002');
const principal = (role: Role): Principal => ({ userId: me, role, sessionId: SessionId('s'), clientId: ClientId('admin-panel') });

/** The reason a check refused with, or 'allowed'. */
const outcome = (check: () => void): string => {
  try {
    check();
    return 'allowed';
  } catch (error) {
    if (error instanceof ForbiddenError) return error.reason;
    throw error;
  }
};

describe('who may do what', () => {
  it.each<[Role, string, string]>([
    ['admin', 'allowed', 'allowed'],
    ['manager', 'role_manager', 'allowed'],
    ['chef', 'role_chef', 'allowed'],
    ['expeditor', 'role_expeditor', 'allowed'],
    ['patron', 'role_patron', 'allowed'],
  ])('a %s: admin-only operations %s; on their own account %s', (role, adminOnly, ownAccount) => {
    expect(outcome(() => requireAdmin(principal(role), 'list accounts'))).toBe(adminOnly);
    expect(outcome(() => requireSelfOrAdmin(principal(role), me, 'list the sessions'))).toBe(ownAccount);
    expect(outcome(() => requireSelfOrAdmin(principal(role), someoneElse, 'list the sessions'))).toBe(adminOnly);
  });

  it('says to the client what was refused, and keeps the role for the log', () => {
    expect(() => requireAdmin(principal('chef'), 'reset passwords')).toThrow(new ForbiddenError('Only an admin may reset passwords.', 'role_chef'));
  });
});

describe('listUsers', () => {
  /** The query the read model is asked, for a given input. */
  const queryFor = async (input: Parameters<typeof listUsers>[2]): Promise<UserListQuery> => {
    let asked: UserListQuery | undefined;
    const users = {
      listUsers: async (query: UserListQuery): Promise<Page<UserView>> => {
        asked = query;
        return { items: [], nextCursor: null };
      },
    };
    await listUsers({ users } as unknown as AuthDeps, principal('admin'), input);
    return asked!;
  };

  it.each([
    ['a prefix as logins compare names (NFKC, case-folded)', 'ＢＯ', 'bo'],
    ['no filter for an empty q', '', undefined],
    ['no filter without q', undefined, undefined],
  ])('asks for %s', async (_, q, prefix) => {
    expect(await queryFor({ limit: 10, cursor: 'c', role: 'chef', q })).toEqual({ limit: 10, cursor: 'c', role: 'chef', userNamePrefix: prefix });
  });
});
