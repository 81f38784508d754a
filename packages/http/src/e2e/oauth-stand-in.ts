import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticateClient, introspect, type AuthDeps } from '@pos-auth/domain';
import express from 'express';
import { readAuthorization } from '../rest/credentials.js';
import { jwksMetadata } from '../rest/jwks.routes.js';

export interface OAuthStandIn {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Stands in for two endpoints another branch (h-sessions) adds to the service, answering as it
 * does, on the same use cases and database: RFC 8414 metadata at
 * `/.well-known/oauth-authorization-server` (with this branch's `jwks_uri`) and RFC 7662
 * introspection at `/oauth/introspect` (`client_secret_basic`). Once they are merged, delete this
 * and send those paths to the service itself.
 *
 * @example
 * const standIn = await startOAuthStandIn(server.deps, issuer);
 */
export const startOAuthStandIn = async (deps: AuthDeps, issuer: string): Promise<OAuthStandIn> => {
  const app = express();
  app.get('/.well-known/oauth-authorization-server', (_req, res) => {
    res.json({
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      grant_types_supported: ['password', 'refresh_token'],
      ...jwksMetadata(issuer),
    });
  });
  app.post('/oauth/introspect', express.urlencoded({ extended: false }), async (req, res) => {
    const authorization = readAuthorization(req);
    try {
      if (authorization.scheme !== 'basic') throw new Error('no client credentials');
      await authenticateClient(deps, authorization.credentials);
    } catch {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    const result = await introspect(deps, String((req.body as { token?: unknown }).token ?? ''));
    res.set('Cache-Control', 'no-store').json(
      result.active
        ? {
            active: true,
            token_type: result.tokenType === 'access_token' ? 'Bearer' : 'refresh_token',
            client_id: result.clientId,
            username: result.userName,
            sub: result.userId,
            sid: result.sessionId,
            role: result.role,
            ...(result.scope === null ? {} : { scope: result.scope }),
            exp: result.expiresAt,
            iat: result.issuedAt,
          }
        : { active: false },
    );
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
