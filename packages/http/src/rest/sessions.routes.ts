import { Router, type Request } from 'express';
import { logoutQuery } from '@pos-auth/contract';
import { endSession, listSessions, logout, type AuthDeps, type Principal, type UserId } from '@pos-auth/domain';
import { requirePrincipal } from '../callers.js';
import { sessionIdOf, userIdOf } from '../ids.js';
import { sessionResourceOf } from '../resources.js';
import { noteClient } from '../observability/requests.js';
import { tokenBody } from './auth.routes.js';
import { readAuthorization } from './credentials.js';
import { methodNotAllowed } from './errors.js';
import { requestContext } from './request.js';
import { parseBody } from './validation.js';

/** A path parameter as one string (a wildcard's would be an array: none is one here). */
const pathParam = (req: Request, name: string): string => {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
};

/** `/users/me/...` names the caller's own account; `/users/{id}/...` any, as the use case allows. */
type Owner = (req: Request, principal: Principal) => UserId;
const caller: Owner = (_req, principal) => principal.userId;
const byId: Owner = (req) => userIdOf(pathParam(req, 'id'));

/**
 * Logout (API.md "Sessions") and the session listings of the admin panel. Who may list or end
 * whose sessions is the use cases' decision; these routes only say whose sessions are meant.
 */
export const sessionsRoutes = (deps: AuthDeps): Router => {
  const router = Router();
  const principalOf = async (req: Request) => {
    const principal = await requirePrincipal(deps, readAuthorization(req));
    noteClient(req, principal.clientId);
    return principal;
  };

  router
    .route('/auth/logout')
    // A body is not needed, but one sent as the other /auth/* endpoints take it is accepted.
    .post(...tokenBody, async (req, res) => {
      const principal = await principalOf(req);
      const { scope } = parseBody(logoutQuery, req.query);
      await logout(deps, principal, scope, requestContext(req));
      res.status(204).end();
    })
    .all(methodNotAllowed('POST'));

  for (const [base, owner] of [['/users/me', caller], ['/users/:id', byId]] as const) {
    router
      .route(`${base}/sessions`)
      .get(async (req, res) => {
        const principal = await principalOf(req);
        res.json((await listSessions(deps, principal, owner(req, principal))).map(sessionResourceOf));
      })
      .all(methodNotAllowed('GET'));
    router
      .route(`${base}/sessions/:sid`)
      .delete(async (req, res) => {
        const principal = await principalOf(req);
        await endSession(deps, principal, owner(req, principal), sessionIdOf(pathParam(req, 'sid')), requestContext(req));
        res.status(204).end();
      })
      .all(methodNotAllowed('DELETE'));
  }

  return router;
};
