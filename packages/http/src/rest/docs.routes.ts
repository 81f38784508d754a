import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { openApiDocument } from '../openapi.js';
import { methodNotAllowed } from './errors.js';

/**
 * The API's description: `GET /openapi.json` (OpenAPI 3.1) and an interactive reference at
 * `/docs`, Swagger UI served from the `swagger-ui-dist` package: the page, its script and style
 * all come from this service, never from a CDN.
 */

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The files of swagger-ui-dist the page loads; nothing else of the package is served. */
const assets = new Set(['/swagger-ui-bundle.js', '/swagger-ui.css', '/favicon-32x32.png']);

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>pos-auth API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  </head>
  <body>
    <div id="docs"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

/** Starts Swagger UI on the document; a file, since the page's policy runs no inline script. */
const initScript = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, validatorUrl: null });
});
`;

/**
 * The page's Content-Security-Policy, in place of the API's `default-src 'none'`: scripts, styles
 * and images from this origin only (images also as `data:` URLs: Swagger UI draws its icons so),
 * requests to this origin only (the document, and "Try it out"), and still no framing, plugins,
 * forms or `<base>`. Checked in headless Chromium with every operation expanded, requests executed
 * and the authorization dialog open: nothing else was refused.
 */
const docsContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const withDocsPolicy: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', docsContentSecurityPolicy);
  next();
};

/**
 * `GET /openapi.json`, `GET /docs` and the page's assets. The document is generated once, for
 * `issuer` (its server URL).
 *
 * @example
 * app.use(docsRoutes({ issuer: 'https://auth.pos.example' }));
 */
export const docsRoutes = (options: { readonly issuer: string }): Router => {
  const router = Router();
  const document = openApiDocument(options.issuer);

  router
    .route('/openapi.json')
    .get((_req, res) => {
      res.json(document);
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/docs')
    .get(withDocsPolicy, (_req, res) => {
      res.type('html').send(page);
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/docs/init.js')
    .get((_req, res) => {
      res.type('text/javascript').send(initScript);
    })
    .all(methodNotAllowed('GET'));

  // Static files keep the API's headers: no caching (`cacheControl: false` leaves `no-store`), and
  // no validators to revalidate with.
  const serveAsset = express.static(swaggerUiDir, { index: false, cacheControl: false, etag: false, lastModified: false });
  router.use('/docs/assets', (req, res, next) => (assets.has(req.path) ? serveAsset(req, res, next) : next()));

  return router;
};
