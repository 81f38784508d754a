import type { Response } from 'express';
import type { OAuthError, ProblemDetails } from '@pos-auth/contract';

export type { OAuthError };

/**
 * An RFC 9457 problem details body, as the contract declares it (`code` is our stable
 * machine-readable extension); its field errors may come as a read-only list.
 */
export type Problem = Omit<ProblemDetails, 'errors'> & { readonly errors?: readonly NonNullable<ProblemDetails['errors']>[number][] };

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
