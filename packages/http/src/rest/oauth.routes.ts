import { Router, type Request } from 'express';
import { authenticateClient, introspect, revokeToken, type AuthDeps, type ClientId } from '@pos-auth/domain';
import { authorizationServerMetadataOf, introspectionResponseOf } from '../resources.js';
import { noteClient } from '../observability/requests.js';
import { readClientCredentials, required, tokenBody, type Body } from './auth.routes.js';
import { methodNotAllowed } from './errors.js';
import { requestContext } from './request.js';

/**
 * RFC 7009 revocation, RFC 7662 introspection and RFC 8414 metadata. Both token endpoints take
 * client authentication as the token endpoint does (`client_secret_basic` or `client_secret_post`)
 * and answer errors in the OAuth shape. A `token_type_hint` is not needed: both kinds of token are
 * looked up whatever it says, as RFC 7009 §2.1 allows.
 */
export const oauthRoutes = (deps: AuthDeps, options: { readonly issuer: string }): Router => {
  const router = Router();

  /** The authenticated client first, then the token: a bad client is 401 whatever it sent. */
  const clientAndToken = async (req: Request): Promise<{ clientId: ClientId; token: string }> => {
    const body = req.body as Body;
    const clientId = await authenticateClient(deps, readClientCredentials(req, body));
    noteClient(req, clientId);
    return { clientId, token: required(body, 'token') };
  };

  router
    .route('/oauth/revoke')
    .post(...tokenBody, async (req, res) => {
      const { clientId, token } = await clientAndToken(req);
      await revokeToken(deps, clientId, token, requestContext(req));
      res.status(200).end();
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/oauth/introspect')
    .post(...tokenBody, async (req, res) => {
      const { token } = await clientAndToken(req);
      res.json(introspectionResponseOf(await introspect(deps, token)));
    })
    .all(methodNotAllowed('POST'));

  const metadata = authorizationServerMetadataOf(options.issuer);
  router
    .route('/.well-known/oauth-authorization-server')
    .get((_req, res) => {
      res.json(metadata);
    })
    .all(methodNotAllowed('GET'));

  return router;
};
