import { Router, type Request } from 'express';
import { changePasswordBody, listUsersQuery, registerBody, resetPasswordBody, updateUserBody } from '@pos-auth/contract';
import { changeOwnPassword, eraseUser, getUser, listUsers, registerUser, resetPassword, updateUser, type AuthDeps } from '@pos-auth/domain';
import { identifyRegistrant, requireCurrentUser, requirePrincipal } from '../callers.js';
import { userIdOf } from '../ids.js';
import { userPageOf, userResourceOf } from '../resources.js';
import { noteClient } from '../observability/requests.js';
import { methodNotAllowed } from './errors.js';
import { readAuthorization } from './credentials.js';
import { accepts, jsonBody, requestContext, requireParsedBody } from './request.js';
import { parseBody } from './validation.js';

export const usersRoutes = (deps: AuthDeps): Router => {
  const router = Router();
  const jsonOnly = [accepts('application/json'), jsonBody, requireParsedBody];
  const principalOf = async (req: Request) => {
    const principal = await requirePrincipal(deps, readAuthorization(req));
    noteClient(req, principal.clientId);
    return principal;
  };

  router
    .route('/users')
    .get(async (req, res) => {
      const principal = await principalOf(req);
      const { cursor, ...query } = parseBody(listUsersQuery, req.query);
      res.json(userPageOf(await listUsers(deps, principal, { ...query, cursor: cursor ?? null })));
    })
    .post(...jsonOnly, async (req, res) => {
      const body = parseBody(registerBody, req.body);
      const actor = await identifyRegistrant(deps, readAuthorization(req));
      if (actor.clientId !== null) noteClient(req, actor.clientId);
      const user = await registerUser(
        deps,
        { userName: body.user_name, password: body.password, email: body.email, name: body.name, role: body.role },
        actor,
        requestContext(req),
      );
      res.status(201).location(`/users/${encodeURIComponent(user.id)}`).json(userResourceOf(user));
    })
    .all(methodNotAllowed('GET, POST'));

  router
    .route('/users/me')
    .get(async (req, res) => {
      const { principal, user } = await requireCurrentUser(deps, readAuthorization(req));
      noteClient(req, principal.clientId);
      res.json(userResourceOf(user));
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/users/me/password')
    .post(...jsonOnly, async (req, res) => {
      const principal = await principalOf(req);
      await changeOwnPassword(deps, principal, parseBody(changePasswordBody, req.body), requestContext(req));
      res.status(204).end();
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/users/:id')
    .get(async (req, res) => {
      const principal = await principalOf(req);
      res.json(userResourceOf(await getUser(deps, principal, userIdOf(req.params['id'] ?? ''))));
    })
    .patch(...jsonOnly, async (req, res) => {
      const principal = await principalOf(req);
      const changes = parseBody(updateUserBody, req.body);
      res.json(userResourceOf(await updateUser(deps, principal, userIdOf(req.params['id'] ?? ''), changes, requestContext(req))));
    })
    .delete(async (req, res) => {
      const principal = await principalOf(req);
      await eraseUser(deps, principal, userIdOf(req.params['id'] ?? ''), requestContext(req));
      res.status(204).end();
    })
    .all(methodNotAllowed('GET, PATCH, DELETE'));

  router
    .route('/users/:id/password')
    .post(...jsonOnly, async (req, res) => {
      const principal = await principalOf(req);
      const { newPassword } = parseBody(resetPasswordBody, req.body);
      await resetPassword(deps, principal, userIdOf(req.params['id'] ?? ''), newPassword, requestContext(req));
      res.status(204).end();
    })
    .all(methodNotAllowed('POST'));

  return router;
};
