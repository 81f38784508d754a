/**
 * The ceiling for the non-hashing endpoints: the same express as pos-auth (resolved from
 * packages/http), with nothing behind it. `POST /post` parses a JSON body and answers 201,
 * `GET /get` answers 200; both send a small JSON body. Run as its own process by bench/run.ts,
 * so it gets an event loop to itself as the real server does; prints `{"url": ...}` when listening.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireFrom } from './lib/workspace.js';

interface Response {
  status(code: number): Response;
  set(fields: Record<string, string>): Response;
  json(body: unknown): void;
}
type Handler = (req: { body: unknown }, res: Response) => void;
interface App {
  disable(setting: string): void;
  set(setting: string, value: unknown): void;
  get(path: string, handler: Handler): void;
  post(path: string, parser: unknown, handler: Handler): void;
  listen(port: number, host: string, callback: (error?: Error) => void): Server;
}
interface Express {
  (): App;
  json(options: { limit: string }): unknown;
}

const express = requireFrom('http')('express') as Express;
const app = express();
// The same settings pos-auth's app makes, so the ceiling does the same per-request work in express.
app.disable('x-powered-by');
app.set('etag', false);
app.post('/post', express.json({ limit: '16kb' }), (_req, res) => {
  res.status(201).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json({ ok: true, kind: 'bare-express' });
});
app.get('/get', (_req, res) => {
  res.json({ ok: true, kind: 'bare-express' });
});

const server = await new Promise<Server>((resolve, reject) => {
  const listening = app.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', (error?: Error) =>
    error ? reject(error) : resolve(listening),
  );
});
server.keepAliveTimeout = 65_000;
const { port } = server.address() as AddressInfo;
console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
