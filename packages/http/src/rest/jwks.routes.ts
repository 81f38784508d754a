import { Router } from 'express';
import { signingKeyTimings, type SigningKeys } from '@pos-auth/infrastructure';
import { methodNotAllowed } from './errors.js';

/** Where the JWKS is served, below the issuer. */
export const jwksPath = '/.well-known/jwks.json';

/**
 * The RFC 8414 metadata fields of the JWKS, for the authorization server's metadata document.
 *
 * @example
 * res.json({ ...authorizationServerMetadata(issuer), ...jwksMetadata(issuer) });
 */
export const jwksMetadata = (issuer: string) => ({ jwks_uri: `${issuer}${jwksPath}` });

/**
 * `GET /.well-known/jwks.json`: the public keys that verify JWT access tokens (RFC 7517), the
 * keys about to sign included, as `application/json` (what most JWKS endpoints send and every JSON
 * client reads; RFC 7517 also registers `application/jwk-set+json`). Public and cacheable by anyone for `jwksMaxAgeSeconds` (the one response of
 * this service that is not `no-store`): a rotation publishes its key at least that long before it
 * signs. It is served in either access-token format, so that JWTs issued before a switch to opaque
 * tokens still verify until they expire.
 */
export const jwksRoutes = (keys: Pick<SigningKeys, 'publishedKeys'>): Router => {
  const router = Router();
  router
    .route(jwksPath)
    .get(async (_req, res) => {
      const published = await keys.publishedKeys();
      res.set('Cache-Control', `public, max-age=${signingKeyTimings.jwksMaxAgeSeconds}`).json({ keys: published });
    })
    .all(methodNotAllowed('GET'));
  return router;
};
