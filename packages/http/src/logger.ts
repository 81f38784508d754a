import { pino, type Logger } from 'pino';

/**
 * What may wait for stdout before lines are dropped: writes are asynchronous, so a slow reader of
 * the logs (a pipe, a container's log driver) never stalls the event loop, and this bounds the
 * memory they may take meanwhile. Beyond it, under a flood, lines are lost rather than requests.
 */
const maxBufferedLogBytes = 16 * 1024 * 1024;

/** Secrets never reach a log call (request lines hold no header, body or query); this is a second guard. */
const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.currentPassword',
  '*.newPassword',
  '*.refresh_token',
  '*.refreshToken',
  '*.access_token',
  '*.accessToken',
  '*.client_secret',
  '*.clientSecret',
];

/** JSON lines on stdout, written asynchronously (flushed when the process exits). */
export const createLogger = (level: string): Logger =>
  pino(
    { level, base: { service: 'pos-auth' }, redact: { paths: redactedPaths, censor: '[redacted]' } },
    pino.destination({ dest: 1, sync: false, maxLength: maxBufferedLogBytes }),
  );
