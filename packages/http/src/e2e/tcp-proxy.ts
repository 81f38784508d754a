import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on, the same after `open()` again. */
  readonly port: number;
  /** Stops accepting and cuts every connection through it: the server behind is gone. */
  close(): Promise<void>;
  /** Accepts connections again on the same port. */
  open(): Promise<void>;
}

/**
 * A TCP proxy on loopback in front of `target` (a host and port, or a Unix socket's path), for tests
 * that take a database away from the service and give it back, without touching the database itself.
 *
 * @example
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 * await proxy.close(); // connections cut, new ones refused
 * await proxy.open();
 */
export const startTcpProxy = async (
  target: { readonly host: string; readonly port: number } | { readonly path: string },
): Promise<TcpProxy> => {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((downstream) => {
    const upstream = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    track(downstream);
    track(upstream);
    downstream.once('close', () => upstream.destroy());
    upstream.once('close', () => downstream.destroy());
    downstream.pipe(upstream).pipe(downstream);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      sockets.forEach((socket) => socket.destroy());
      await closed;
    },
    open: () => listen(port),
  };
};
