import { Router, type Request } from 'express';
import { UserId, UserNotFoundError, getUser, registerUser, roles, type AuthDeps, type UserView } from '@pos-auth/domain';
import { z } from 'zod';
import { identifyRegistrant, requirePrincipal } from '../callers.js';
import { secret, text } from '../input.js';
import { methodNotAllowed } from './errors.js';
import { readAuthorization } from './credentials.js';
import { accepts, jsonBody, requestContext, requireParsedBody } from './request.js';
import { parseBody } from './validation.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/** The seed's body; unknown fields are ignored. */
const registerBody = z.object({
  user_name: text(),
  password: secret(),
  grant_type: z.literal('password', { error: 'must be "password" when present' }).optional(),
  email: text().nullish(),
  name: text().nullish(),
  role: z.enum(roles, { error: `must be one of ${roles.join(', ')}` }).optional(),
});

/** The user resource in the API's snake_case. */
export const userResource = (user: UserView) => ({
  id: user.id,
  user_name: user.userName,
  email: user.email,
  name: user.name,
  role: user.role,
  disabled: user.disabled,
  created_at: user.createdAt,
  updated_at: user.updatedAt,
});

export const usersRoutes = (deps: AuthDeps): Router => {
  const router = Router();

  router
    .route('/users')
    .post(accepts('application/json'), jsonBody, requireParsedBody, async (req, res) => {
      const body = parseBody(registerBody, req.body);
      const actor = await identifyRegistrant(deps, readAuthorization(req));
      const user = await registerUser(
        deps,
        { userName: body.user_name, password: body.password, email: body.email, name: body.name, role: body.role },
        actor,
        requestContext(req),
      );
      res.status(201).location(`/users/${encodeURIComponent(user.id)}`).json(userResource(user));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/users/me')
    .get(async (req, res) => {
      const principal = await requirePrincipal(deps, readAuthorization(req));
      res.json(userResource(await getUser(deps, principal, principal.userId)));
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/users/:id')
    .get(async (req, res) => {
      const principal = await requirePrincipal(deps, readAuthorization(req));
      const id = req.params['id'] ?? '';
      if (!uuidPattern.test(id)) throw new UserNotFoundError();
      res.json(userResource(await getUser(deps, principal, UserId(id))));
    })
    .all(methodNotAllowed('GET'));

  return router;
};
