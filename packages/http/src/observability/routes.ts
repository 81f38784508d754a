import type { Request } from 'express';

/** What a request asked for, in a bounded set of names: never its raw URL, whose ids and query may be anything. */
export interface RouteName {
  /** The matched route pattern (`/users/:id`), `/trpc/<procedure>`, `/trpc/(batch)`, or `(unmatched)`. */
  readonly route: string;
  /** A tRPC request's procedures, in order; an unknown name as `(unknown)`. */
  readonly procedures?: readonly string[];
}

export const unmatchedRoute = '(unmatched)';
/** A tRPC path that names no procedure: the caller's text, never logged nor made a label. */
export const unknownProcedure = '(unknown)';

/**
 * Names requests for the request log and the metrics' `route` label. REST requests by the pattern
 * of the route that answered (`req.route`, set once one matched); tRPC requests by procedure, since
 * one URL path names a whole batch. Only names from `procedures` and the app's own patterns come
 * out, so a caller cannot grow the set of label values, and no id or query string is ever in it.
 *
 * @example
 * const routeOf = createRouteNamer('/trpc', Object.keys(appRouter._def.procedures));
 * routeOf(req); // { route: '/users/:id' }
 */
export const createRouteNamer = (trpcPath: string, procedures: Iterable<string>, maxBatchSize: number) => {
  const known = new Set(procedures);
  const prefix = `${trpcPath}/`;
  return (req: Request): RouteName => {
    if (req.route !== undefined) return { route: `${req.baseUrl}${String(req.route.path)}` };
    const { originalUrl } = req;
    if (!originalUrl.startsWith(prefix)) return { route: unmatchedRoute };
    const query = originalUrl.indexOf('?');
    const names = originalUrl.slice(prefix.length, query < 0 ? undefined : query).split(',');
    // tRPC refuses a larger batch before any call: its names are not worth a long log line.
    if (names.length > maxBatchSize) return { route: `${trpcPath}/(batch)` };
    const named = names.map((name) => (known.has(name) ? name : unknownProcedure));
    return { route: named.length === 1 ? `${trpcPath}/${named[0]}` : `${trpcPath}/(batch)`, procedures: named };
  };
};
