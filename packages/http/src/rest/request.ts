import { randomUUID } from 'node:crypto';
import express, { type Request, type RequestHandler } from 'express';
import type { RequestContext } from '@pos-auth/domain';
import { EdgeError } from './errors.js';

/** Request bodies are small: a password is at most 1 KiB. */
export const bodyLimit = '16kb';

const requestIdPattern = /^[\w.:-]{1,128}$/u;

/** Takes the caller's `X-Request-Id` when it is sane, else makes one; echoes it back. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  const id = incoming !== undefined && requestIdPattern.test(incoming) ? incoming : randomUUID();
  res.locals['requestId'] = id;
  res.set('X-Request-Id', id);
  next();
};

export const requestContext = (req: Request): RequestContext => ({
  requestId: String(req.res?.locals['requestId'] ?? randomUUID()),
  ip: req.ip,
  userAgent: req.get('user-agent')?.slice(0, 512),
});

const hasContent = (req: Request): boolean => {
  const length = req.get('content-length');
  return req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
};

/** JSON with any charset; `strict` refuses bare primitives. */
const mediaType = (req: { headers: { 'content-type'?: string | undefined } }) =>
  req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();

export const jsonBody: RequestHandler = express.json({ limit: bodyLimit, type: (req) => mediaType(req) === 'application/json' });

/**
 * `extended: false` keeps `a=1&a=2` as an array, so a repeated parameter can be refused
 * (RFC 6749 §3.2) instead of silently taking one of the values.
 */
export const formBody: RequestHandler = express.urlencoded({ limit: bodyLimit, extended: false, parameterLimit: 50 });

/**
 * After the parsers: a body nobody parsed is an unsupported media type; no body at all, or an
 * empty one of any type, is an empty object.
 */
export const requireParsedBody: RequestHandler = (req, res, next) => {
  if (req.body !== undefined) return next();
  if (hasContent(req)) {
    const accepted = String(res.locals['acceptedMediaTypes'] ?? 'application/json');
    return next(new EdgeError(415, 'invalid_request', 'Unsupported Media Type', `Send the body as ${accepted}.`));
  }
  req.body = {};
  next();
};

/** Accepted media types, for the 415 message. */
export const accepts =
  (description: string): RequestHandler =>
  (_req, res, next) => {
    res.locals['acceptedMediaTypes'] = description;
    next();
  };

