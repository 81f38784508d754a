import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { DomainError, TooManyAttemptsError, type DomainErrorCode, type FieldError } from '@pos-auth/domain';
import type { Logger } from 'pino';
import { IpRateLimitedError } from '../ip-limit.js';
import { unavailabilityOf } from '../unavailable.js';
import { noteRefusal } from '../observability/requests.js';
import { domainProblem, sendOAuthError, sendProblem, statusProblem, type OAuthError } from './problem.js';

export const basicChallenge = 'Basic realm="pos-auth"';
export const bearerChallenge = 'Bearer realm="pos-auth"';
export const invalidTokenChallenge = 'Bearer realm="pos-auth", error="invalid_token"';

/** What a 503 asks the caller to wait, in whole seconds: a lost connection is replaced at once, a hashing queue drains in well under a second. */
export const retryAfterSeconds = 2;

export const unavailableDetail = 'The service is temporarily unavailable. Try again shortly.';

/**
 * An error the REST edge raises itself (a malformed request, a missing header), in both shapes:
 * the token endpoints answer `oauth`, every other endpoint a problem.
 */
export class EdgeError extends Error {
  constructor(
    readonly status: number,
    readonly oauth: OAuthError['error'],
    readonly title: string,
    message: string,
    readonly options: { readonly errors?: readonly FieldError[]; readonly challenge?: string; readonly allow?: string } = {},
  ) {
    super(message);
  }
}

export const invalidRequest = (message: string, errors?: readonly FieldError[]) =>
  new EdgeError(400, 'invalid_request', 'Invalid request', message, errors ? { errors } : {});

interface Mapping {
  readonly status: number;
  readonly title: string;
  readonly oauth: OAuthError['error'];
  readonly challenge?: string;
}


/** The one place where domain error codes become HTTP. */
const domainMappings: Record<DomainErrorCode, Mapping> = {
  VALIDATION_FAILED: { status: 400, title: 'Invalid request', oauth: 'invalid_request' },
  PASSWORD_TOO_COMMON: { status: 400, title: 'Password too common', oauth: 'invalid_request' },
  PASSWORD_CONTAINS_USER_NAME: { status: 400, title: 'Password contains the user name', oauth: 'invalid_request' },
  USER_NAME_TAKEN: { status: 409, title: 'User name taken', oauth: 'invalid_request' },
  EMAIL_TAKEN: { status: 409, title: 'Email taken', oauth: 'invalid_request' },
  ROLE_ELEVATION_FORBIDDEN: { status: 403, title: 'Forbidden', oauth: 'invalid_request' },
  FORBIDDEN: { status: 403, title: 'Forbidden', oauth: 'invalid_request' },
  LAST_ADMIN: { status: 409, title: 'Last admin', oauth: 'invalid_request' },
  TOO_MANY_ATTEMPTS: { status: 429, title: 'Too Many Requests', oauth: 'slow_down' },
  SESSION_NOT_FOUND: { status: 404, title: 'Not Found', oauth: 'invalid_request' },
  INVALID_CLIENT: { status: 401, title: 'Unauthorized', oauth: 'invalid_client', challenge: basicChallenge },
  INVALID_GRANT: { status: 400, title: 'Invalid grant', oauth: 'invalid_grant' },
  INVALID_TOKEN: { status: 401, title: 'Unauthorized', oauth: 'invalid_request', challenge: invalidTokenChallenge },
  TOKEN_OF_ANOTHER_CLIENT: { status: 400, title: 'Invalid request', oauth: 'invalid_request' },
  // RFC 6750 §3.1: no error code in the challenge when the request carried no token at all.
  AUTHENTICATION_REQUIRED: { status: 401, title: 'Unauthorized', oauth: 'invalid_request', challenge: bearerChallenge },
  USER_NOT_FOUND: { status: 404, title: 'Not Found', oauth: 'invalid_request' },
  CLIENT_ALREADY_REGISTERED: { status: 409, title: 'Client already registered', oauth: 'invalid_request' },
  CLIENT_NOT_FOUND: { status: 404, title: 'Not Found', oauth: 'invalid_request' },
  // Both only escape a use case once its bounded retries are spent: a conflict, try again.
  WRONG_EXPECTED_VERSION: { status: 409, title: 'Conflict', oauth: 'invalid_request' },
  CLAIM_TAKEN: { status: 409, title: 'Conflict', oauth: 'invalid_request' },
};

/** body-parser's errors carry `type`; these are the client's fault. */
const parserMappings: Record<string, { status: number; title: string; detail: string }> = {
  'entity.parse.failed': { status: 400, title: 'Bad Request', detail: 'The request body is not valid JSON.' },
  'entity.too.large': { status: 413, title: 'Content Too Large', detail: 'The request body is too large.' },
  'encoding.unsupported': { status: 415, title: 'Unsupported Media Type', detail: 'The content encoding is not supported.' },
  'charset.unsupported': { status: 415, title: 'Unsupported Media Type', detail: 'The charset is not supported.' },
  'request.aborted': { status: 400, title: 'Bad Request', detail: 'The request was aborted.' },
  'request.size.invalid': { status: 400, title: 'Bad Request', detail: 'The request body does not match its Content-Length.' },
  'parameters.too.many': { status: 413, title: 'Content Too Large', detail: 'The request has too many parameters.' },
};

/** zlib's errors, when a gzip, deflate or br body does not inflate; body-parser passes them on as 400s. */
const isUndecodableBody = (error: { readonly code?: unknown }): error is { readonly code: string } =>
  typeof error.code === 'string' && error.code.startsWith('Z_');

type Classified = Mapping & {
  readonly detail: string;
  readonly code?: string;
  readonly errors?: readonly FieldError[];
  readonly allow?: string;
  readonly retryAfter?: number;
  /** For the log: why, when the client is told less. */
  readonly reason?: string;
  /** For the log: why a 503. */
  readonly unavailable?: string;
};

const frameworkStatus = (error: { readonly status?: unknown; readonly statusCode?: unknown }): number | null => {
  const status = error.status ?? error.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : null;
};

const classify = (error: unknown): Classified | null => {
  if (error instanceof DomainError) {
    const mapping = domainMappings[error.code];
    const errors = 'errors' in error ? (error.errors as readonly FieldError[]) : undefined;
    const reason = 'reason' in error && typeof error.reason === 'string' ? error.reason : undefined;
    return {
      ...mapping,
      detail: error.message,
      code: error.code,
      ...(errors ? { errors } : {}),
      ...(reason ? { reason } : {}),
      ...(error instanceof TooManyAttemptsError ? { retryAfter: error.retryAfterSeconds } : {}),
    };
  }
  if (error instanceof EdgeError) {
    return {
      status: error.status,
      title: error.title,
      oauth: error.oauth,
      detail: error.message,
      ...error.options,
    };
  }
  if (error instanceof IpRateLimitedError) {
    return {
      status: 429,
      title: 'Too Many Requests',
      oauth: 'slow_down',
      detail: error.message,
      code: 'RATE_LIMITED',
      retryAfter: error.retryAfterSeconds,
      reason: error.reason,
    };
  }
  const unavailable = unavailabilityOf(error);
  if (unavailable !== null) {
    return { status: 503, title: 'Service Unavailable', oauth: 'temporarily_unavailable', detail: unavailableDetail, retryAfter: retryAfterSeconds, unavailable };
  }
  if (typeof error !== 'object' || error === null) return null;
  // A framework error's message may quote the request (V8's JSON errors quote the body, where a
  // password may be; a decode error quotes the path): the log gets the error's kind, not its message.
  const type = (error as { type?: unknown }).type;
  if (typeof type === 'string' && type in parserMappings) {
    const { status, title, detail } = parserMappings[type]!;
    return { status, title, detail, oauth: 'invalid_request', reason: type };
  }
  if (isUndecodableBody(error)) {
    return { status: 400, title: 'Bad Request', detail: 'The request body could not be decoded.', oauth: 'invalid_request', reason: error.code };
  }
  // Any other framework error that blames the request (a path that does not percent-decode, ...)
  // keeps its status; its message is not for the client.
  const status = frameworkStatus(error);
  if (status !== null) {
    const title = STATUS_CODES[status] ?? 'Bad Request';
    return { status, title, detail: `The request was refused: ${title}.`, oauth: 'invalid_request', reason: error instanceof Error ? error.name : title };
  }
  return null;
};

const send = (res: Response, classified: Classified, shape: 'oauth' | 'problem') => {
  if (classified.challenge) res.set('WWW-Authenticate', classified.challenge);
  if (classified.allow) res.set('Allow', classified.allow);
  if (classified.retryAfter !== undefined) res.set('Retry-After', String(classified.retryAfter));
  if (shape === 'oauth') {
    sendOAuthError(res, classified.status, { error: classified.oauth, error_description: classified.detail });
    return;
  }
  const problem = classified.code
    ? domainProblem(classified.status, classified.code, classified.title, classified.detail)
    : statusProblem(classified.status, classified.title, classified.detail);
  sendProblem(res, classified.errors ? { ...problem, errors: classified.errors } : problem);
};

/** Marks the routes whose errors take the OAuth shape (RFC 6749 §5.2). */
export const oauthErrors: RequestHandler = (_req, res, next) => {
  res.locals['errorShape'] = 'oauth';
  next();
};

/**
 * The one REST error middleware: maps what it knows, and for anything else logs the cause with
 * the request id and answers a bare 500 that shows nothing internal. A refusal's reason goes into
 * the request's log line (`observeRequests`); a database that cannot be reached is logged with its cause.
 */
export const errorHandler =
  (logger: Logger): ErrorRequestHandler =>
  (error, req, res, _next) => {
    const shape = res.locals['errorShape'] === 'oauth' ? 'oauth' : 'problem';
    if (res.headersSent) {
      logger.error({ err: error, requestId: res.locals['requestId'] }, 'error after the response started');
      res.destroy();
      return;
    }
    const classified = classify(error);
    if (classified) {
      const requestId = res.locals['requestId'];
      if (classified.unavailable) logger.warn({ err: error, requestId, method: req.method, path: req.path }, classified.unavailable);
      else noteRefusal(res, { code: classified.code, reason: classified.reason ?? classified.detail });
      send(res, classified, shape);
      return;
    }
    logger.error({ err: error, requestId: res.locals['requestId'], method: req.method, path: req.path }, 'request failed');
    send(
      res,
      { status: 500, title: 'Internal Server Error', oauth: 'server_error', detail: 'An unexpected error occurred. It has been logged.' },
      shape,
    );
  };

/** 405 for a known path with another method; mount after the path's routes. */
export const methodNotAllowed =
  (allow: string): RequestHandler =>
  (req, _res, next) => {
    next(new EdgeError(405, 'invalid_request', 'Method Not Allowed', `${req.method} is not allowed here; use ${allow}.`, { allow }));
  };

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new EdgeError(404, 'invalid_request', 'Not Found', 'No resource matches this request.'));
};
