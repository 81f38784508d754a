import type { oas31 } from 'zod-openapi';
import { createReplyChecker, type ReplyChecker } from './openapi-replies.js';

/** Small fetch helpers for the end-to-end tests: real HTTP, nothing mocked. */
export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
}

/** The servers whose document is at hand, by origin: their replies are checked against it. */
const checkers = new Map<string, ReplyChecker>();

/**
 * From now on, every reply that `request` gets from the server at `url` to an operation of
 * `document` must be what the document describes (`createReplyChecker`); `request` throws when it
 * is not. The test servers and processes register themselves.
 *
 * @example
 * checkRepliesAgainst(server.url, openApiDocument(server.url));
 */
export const checkRepliesAgainst = (url: string, document: oas31.OpenAPIObject): void => {
  checkers.set(new URL(url).origin, createReplyChecker(document));
};

/** Stops checking the replies of the server at `url` (it closed; another may take its port). */
export const stopCheckingReplies = (url: string): void => {
  checkers.delete(new URL(url).origin);
};

/**
 * `fetch`, with the body read (as text, and as JSON when it parses). A reply of a server whose
 * OpenAPI document is at hand (`checkRepliesAgainst`) must be one the document describes, whatever
 * the test then asserts: else this throws, naming the request and what is wrong.
 */
export const request = async (url: string, init: RequestInit = {}): Promise<Reply> => {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const reply = { status: response.status, headers: response.headers, text, body };
  const target = new URL(url);
  const method = init.method ?? 'GET';
  const problems = checkers.get(target.origin)?.check(method, target, reply)?.problems ?? [];
  if (problems.length > 0) {
    throw new Error(`${method} ${target.pathname} answered ${reply.status}, not as the OpenAPI document says: ${problems.join('; ')}\n${text.slice(0, 500)}`);
  }
  return reply;
};

export const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export const form = (params: Record<string, string> | [string, string][], headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(params).toString(),
});
