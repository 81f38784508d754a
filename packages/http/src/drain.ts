import type { Server, ServerResponse } from 'node:http';

export interface Drain {
  /**
   * Stops accepting connections, tells keep-alive clients to go (`Connection: close` on every
   * response still to be sent), and resolves once every connection has closed, or after
   * `graceMs` with the connections still open destroyed. Resolves with the number of responses
   * that were cut off that way.
   */
  close(graceMs: number): Promise<number>;
}

/**
 * Tracks a server's requests from arrival to the end of their response, so that shutdown waits
 * for them rather than closing the database under their feet. Node's `server.close()` alone never
 * finishes while a keep-alive client keeps sending requests, and leaves no handle on the requests
 * still running.
 */
export const trackRequests = (server: Server): Drain => {
  const open = new Set<ServerResponse>();
  let closing = false;
  const askToGo = (response: ServerResponse) => {
    if (!response.headersSent) response.setHeader('connection', 'close');
  };
  server.prependListener('request', (_request, response) => {
    open.add(response);
    if (closing) askToGo(response);
    response.once('close', () => open.delete(response));
  });

  return {
    close: async (graceMs) => {
      closing = true;
      open.forEach(askToGo);
      // close() also closes the connections idle between two requests.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<false>((resolve) => (timer = setTimeout(resolve, graceMs, false)));
      const drained = await Promise.race([closed.then(() => true), graceOver]);
      clearTimeout(timer);
      if (drained) return 0;
      const cutOff = open.size;
      server.closeAllConnections();
      await closed;
      return cutOff;
    },
  };
};
