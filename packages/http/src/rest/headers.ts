import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's baseline, fitted to a JSON API that no browser renders as a page:
 * - CSP `default-src 'none'; frame-ancestors 'none'`: a response opened as a document loads
 *   nothing, runs nothing and cannot be framed (helmet's default policy is written for HTML pages);
 * - `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`;
 * - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, COOP and CORP same-origin
 *   (CORP does not apply to the CORS requests that `CORS_ORIGINS` allows) as helmet sets them;
 * - no HSTS: it binds the whole host name (and with helmet's default, its subdomains) to HTTPS,
 *   which is the decision of whoever terminates TLS in front of the service, not of the service.
 */
const baseline = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  xFrameOptions: { action: 'deny' },
  strictTransportSecurity: false,
});

/**
 * Nothing this service answers may be kept by a cache: account data, tokens, and errors that
 * depend on who asked. `no-store` on every response, so that a new route cannot forget it.
 */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** The headers every response carries, errors and tRPC included. */
export const securityHeaders: RequestHandler[] = [baseline, noStore];
