import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { statusProblem, type Problem } from '../rest/problem.js';

export const metricsPath = '/metrics';

const sha256 = (value: string) => createHash('sha256').update(value).digest();

const sendProblem = (res: ServerResponse, problem: Problem, headers: Record<string, string> = {}) => {
  res.writeHead(problem.status, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', ...headers }).end(JSON.stringify(problem));
};

/**
 * `GET /metrics`: the registry in Prometheus' text format. With a token, only for
 * `Authorization: Bearer <token>` (compared in constant time); else 401. Plain Node request and
 * response, so the app and a server of its own (`METRICS_PORT`) answer alike.
 *
 * @example
 * app.get('/metrics', scrapeMetrics(metrics.registry, process.env.METRICS_TOKEN ?? null));
 */
export const scrapeMetrics = (registry: Registry, token: string | null) => {
  const expected = token === null ? null : sha256(`Bearer ${token}`);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (expected !== null && !timingSafeEqual(sha256(req.headers.authorization ?? ''), expected)) {
      sendProblem(res, statusProblem(401, 'Unauthorized', 'The metrics need the Bearer token of METRICS_TOKEN.'), {
        'WWW-Authenticate': 'Bearer realm="pos-auth metrics"',
      });
      return;
    }
    const body = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }).end(body);
  };
};

/**
 * A server that answers `GET /metrics` only (`METRICS_PORT`): the metrics stay off the port that
 * callers reach, and a network rule can keep them to the scraper.
 *
 * @example
 * const server = await startMetricsServer(scrapeMetrics(registry, null), { port: 9464, host: '0.0.0.0' });
 */
export const startMetricsServer = async (
  scrape: ReturnType<typeof scrapeMetrics>,
  options: { readonly port: number; readonly host: string },
): Promise<Server> => {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path !== metricsPath) {
      sendProblem(res, statusProblem(404, 'Not Found', `This port serves ${metricsPath} only.`));
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendProblem(res, statusProblem(405, 'Method Not Allowed', `${req.method} is not allowed here; use GET.`), { Allow: 'GET' });
    } else {
      scrape(req, res).catch((error: unknown) => res.destroy(error as Error));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
};
