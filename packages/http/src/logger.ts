import { pino, type Logger } from 'pino';

/** JSON lines on stdout. Secrets never reach a log call; the redaction is a second guard. */
export const createLogger = (level: string): Logger =>
  pino({
    level,
    base: { service: 'pos-auth' },
    redact: {
      paths: ['req.headers.authorization', '*.password', '*.refresh_token', '*.access_token', '*.client_secret'],
      censor: '[redacted]',
    },
  });
