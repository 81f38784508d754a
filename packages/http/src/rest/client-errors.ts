import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusProblem } from './problem.js';

/** What Node's HTTP parser reports, as the status a client should see. */
const statusOf = (code: string | undefined): { status: number; title: string; detail: string } => {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, title: 'Request Header Fields Too Large', detail: 'The request line and headers must fit in 16 KiB.' };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, title: 'Request Timeout', detail: 'The request took too long to arrive.' };
  return { status: 400, title: 'Bad Request', detail: 'The request is not valid HTTP.' };
};

/**
 * Requests that Node's HTTP parser refuses (a URL and headers over 16 KiB, a malformed request
 * line or header) never reach express, and Node answers them with an empty body. This answers
 * them as problem details instead, like everything else the service says, then closes the
 * connection (the parser cannot go on after such an error).
 *
 * @example
 * const server = app.listen(3000);
 * answerMalformedRequests(server);
 */
export const answerMalformedRequests = (server: Server): void => {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, title, detail } = statusOf(error.code);
    const body = JSON.stringify(statusProblem(status, title, detail));
    socket.end(
      [
        `HTTP/1.1 ${status} ${title}`,
        'Content-Type: application/problem+json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Cache-Control: no-store',
        'X-Content-Type-Options: nosniff',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
};
