import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { PosAuthRole } from '../rest-client.js';
import { AccessTokenRefusal } from './refusal.js';
import {
  accessTokenVerifierDefaults,
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type PosAuthPrincipal,
} from './verifier.js';

declare global {
  // Express's own way to type what middleware adds to a request.
  namespace Express {
    interface Request {
      /** The caller, set by `requireAuth` from `@pos-auth/sdk/express` once their access token was accepted. */
      auth?: PosAuthPrincipal;
    }
  }
}

export type RequireAuthOptions = (AccessTokenVerifierOptions | { readonly verifier: AccessTokenVerifier }) & {
  /** Only these roles may pass (403 `insufficient_scope` for others); any authenticated caller when absent. */
  readonly roles?: readonly PosAuthRole[] | undefined;
  /** The `realm` of `WWW-Authenticate` (default: the audience, `pos-api`). */
  readonly realm?: string | undefined;
  /**
   * Told of every refusal, with its private reason and cause, for the resource server's log: the
   * caller only sees the public `error` and description.
   */
  readonly onRefusal?: ((refusal: AccessTokenRefusal, req: Request) => void) | undefined;
};

/** `Authorization: Bearer <token68>` (RFC 6750 §2.1); the scheme is case-insensitive. */
const readBearer = (header: string | undefined): string | null | 'malformed' => {
  if (header === undefined) return null;
  const [scheme, ...rest] = header.trim().split(/ +/u);
  if (scheme?.toLowerCase() !== 'bearer') return null;
  const token = rest.length === 1 ? rest[0]! : '';
  return /^[\w\-.~+/]+=*$/u.test(token) ? token : 'malformed';
};

const quoted = (value: string) => `"${value.replace(/["\\]/gu, '')}"`;

/**
 * Express middleware for the POS API's resource servers: accepts a request whose
 * `Authorization: Bearer` access token pos-auth issued (a JWT verified locally, or an opaque token
 * introspected, see `createAccessTokenVerifier`), sets the caller on `req.auth`, and answers as
 * RFC 6750 §3 says otherwise, with a JSON body `{error, error_description}` and `Cache-Control:
 * no-store`:
 * - no Bearer token: 401, `WWW-Authenticate: Bearer realm="..."` (no error code, §3.1), a body
 *   with only `error_description`;
 * - a malformed Authorization header: 400 `invalid_request`;
 * - a token that is not accepted (bad signature, expired, another issuer or audience, unknown key,
 *   inactive at introspection): 401 `invalid_token`;
 * - a role outside `roles`: 403 `insufficient_scope`;
 * - pos-auth unreachable (JWKS, metadata or introspection): 503 `temporarily_unavailable`,
 *   `Retry-After: 5`; never a 401, and nothing is cached.
 *
 * Each `requireAuth` has its own caches (JWKS, metadata, introspection answers): create one per
 * set of roles at start, or share one `verifier` between them.
 *
 * @example
 * import express from 'express';
 * import { requireAuth } from '@pos-auth/sdk/express';
 *
 * const app = express();
 * const kitchen = requireAuth({ issuer: 'https://auth.pos.example', roles: ['chef', 'expeditor'] });
 * app.get('/tickets', kitchen, (req, res) => res.json({ for: req.auth!.userId }));
 */
export const requireAuth = (options: RequireAuthOptions): RequestHandler => {
  const verifier = 'verifier' in options ? options.verifier : createAccessTokenVerifier(options);
  const roles = options.roles === undefined ? null : new Set<string>(options.roles);
  const audience = 'verifier' in options ? undefined : options.audience;
  const realm = options.realm ?? audience ?? accessTokenVerifierDefaults.audience;

  const refuse = (req: Request, res: Response, refusal: AccessTokenRefusal) => {
    options.onRefusal?.(refusal, req);
    const coded = refusal.error !== 'token_required' && refusal.error !== 'temporarily_unavailable';
    const challenge = [`Bearer realm=${quoted(realm)}`];
    if (coded) challenge.push(`error=${quoted(refusal.error)}`, `error_description=${quoted(refusal.description)}`);
    res.status(refusal.status).set({ 'WWW-Authenticate': challenge.join(', '), 'Cache-Control': 'no-store' });
    if (refusal.error === 'temporarily_unavailable') res.set('Retry-After', '5');
    res.json(refusal.error === 'token_required' ? { error_description: refusal.description } : { error: refusal.error, error_description: refusal.description });
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    const token = readBearer(req.headers.authorization);
    if (token === null) {
      refuse(req, res, new AccessTokenRefusal('token_required', 'no_bearer_token'));
      return;
    }
    if (token === 'malformed') {
      refuse(req, res, new AccessTokenRefusal('invalid_request', 'malformed_authorization'));
      return;
    }
    verifier.verify(token).then(
      (principal) => {
        if (roles !== null && !roles.has(principal.role)) {
          refuse(req, res, new AccessTokenRefusal('insufficient_scope', `role_${principal.role}`));
          return;
        }
        req.auth = principal;
        next();
      },
      (error: unknown) => {
        if (error instanceof AccessTokenRefusal) refuse(req, res, error);
        else next(error);
      },
    );
  };
};
