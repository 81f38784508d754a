import type { Response } from 'express';
import type { FieldError } from '@pos-auth/domain';

/** An RFC 9457 problem details body. `code` is our stable machine-readable extension. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code?: string;
  readonly errors?: readonly FieldError[];
}

/** An RFC 6749 §5.2 error body, for the token endpoints. */
export interface OAuthError {
  readonly error:
    | 'invalid_request'
    | 'invalid_client'
    | 'invalid_grant'
    | 'unauthorized_client'
    | 'unsupported_grant_type'
    | 'invalid_scope'
    | 'slow_down'
    | 'server_error'
    | 'temporarily_unavailable';
  readonly error_description: string;
}

export const sendProblem = (res: Response, problem: Problem): void => {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
};

export const sendOAuthError = (res: Response, status: number, body: OAuthError): void => {
  res.status(status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
};

/** A problem whose meaning is the HTTP status itself (RFC 9457 §4.2.1: `about:blank`). */
export const statusProblem = (status: number, title: string, detail: string, code?: string): Problem => ({
  type: 'about:blank',
  title,
  status,
  detail,
  ...(code === undefined ? {} : { code }),
});

export const domainProblem = (status: number, code: string, title: string, detail: string): Problem => ({
  type: `urn:pos-auth:problem:${code.toLowerCase().replaceAll('_', '-')}`,
  title,
  status,
  detail,
  code,
});
