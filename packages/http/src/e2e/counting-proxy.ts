import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: where callers send what is meant for the service. */
  readonly url: string;
  /** Every request that passed through, as `METHOD /path`, in arrival order. */
  readonly requests: readonly string[];
  /** Sends requests for `paths` to `upstream`, and every other one to `fallback`. */
  route(routes: { readonly fallback: string; readonly paths?: Readonly<Record<string, string>> }): void;
  close(): Promise<void>;
}

/**
 * An HTTP reverse proxy on loopback that counts what reaches the service behind it: a test can say
 * that a resource server asked nothing of the service. It listens before it knows where to send
 * requests, so that the service can be configured with the proxy's URL as its public `ISSUER`.
 *
 * @example
 * const proxy = await startCountingProxy();
 * proxy.route({ fallback: server.url });
 * proxy.requests.filter((r) => r === 'GET /.well-known/jwks.json').length;
 */
export const startCountingProxy = async (): Promise<CountingProxy> => {
  const requests: string[] = [];
  let routes: { readonly fallback: string; readonly paths?: Readonly<Record<string, string>> } | null = null;
  const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
    const path = new URL(incoming.url ?? '/', 'http://proxy').pathname;
    requests.push(`${incoming.method} ${path}`);
    if (routes === null) {
      outgoing.writeHead(502).end();
      return;
    }
    const target = new URL(incoming.url ?? '/', routes.paths?.[path] ?? routes.fallback);
    const upstream = request(target, { method: incoming.method, headers: { ...incoming.headers, host: target.host } }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    route: (next) => {
      routes = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
