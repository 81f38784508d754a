import { TRPCError, initTRPC } from '@trpc/server';
import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import { DomainError, type AuthDeps, type DomainErrorCode, type FieldError } from '@pos-auth/domain';
import { z } from 'zod';
import { requirePrincipal } from '../callers.js';
import { IpRateLimitedError } from '../ip-limit.js';
import { describeFieldErrors, fieldErrors } from '../input.js';
import { noteClient } from '../observability/requests.js';
import { readAuthorization } from '../rest/credentials.js';
import { unavailableDetail } from '../rest/errors.js';
import { requestContext } from '../rest/request.js';
import { unavailabilityOf } from '../unavailable.js';

/**
 * Per request: the use cases' ports, where the request came from, its credentials (read lazily),
 * and where to say which client it authenticated as (for its log line).
 */
export const createContextFactory =
  (deps: AuthDeps) =>
  ({ req }: CreateExpressContextOptions) => ({
    deps,
    requestContext: requestContext(req),
    authorization: () => readAuthorization(req),
    noteClient: (clientId: string) => noteClient(req, clientId),
  });

export type Context = Awaited<ReturnType<ReturnType<typeof createContextFactory>>>;

/** The one place where domain error codes become tRPC codes (and so HTTP statuses). */
const trpcCodes: Record<DomainErrorCode, TRPCError['code']> = {
  VALIDATION_FAILED: 'BAD_REQUEST',
  PASSWORD_TOO_COMMON: 'BAD_REQUEST',
  PASSWORD_CONTAINS_USER_NAME: 'BAD_REQUEST',
  USER_NAME_TAKEN: 'CONFLICT',
  EMAIL_TAKEN: 'CONFLICT',
  ROLE_ELEVATION_FORBIDDEN: 'FORBIDDEN',
  FORBIDDEN: 'FORBIDDEN',
  LAST_ADMIN: 'CONFLICT',
  TOO_MANY_ATTEMPTS: 'TOO_MANY_REQUESTS',
  SESSION_NOT_FOUND: 'NOT_FOUND',
  INVALID_CLIENT: 'UNAUTHORIZED',
  INVALID_GRANT: 'BAD_REQUEST',
  INVALID_TOKEN: 'UNAUTHORIZED',
  TOKEN_OF_ANOTHER_CLIENT: 'BAD_REQUEST',
  AUTHENTICATION_REQUIRED: 'UNAUTHORIZED',
  USER_NOT_FOUND: 'NOT_FOUND',
  CLIENT_ALREADY_REGISTERED: 'CONFLICT',
  CLIENT_NOT_FOUND: 'NOT_FOUND',
  WRONG_EXPECTED_VERSION: 'CONFLICT',
  CLAIM_TAKEN: 'CONFLICT',
};

/** An input that failed its zod schema, as field errors; null for anything else. */
const inputErrorsOf = (cause: unknown): FieldError[] | null => (cause instanceof z.ZodError ? fieldErrors(cause, '(input)') : null);

const fieldErrorsOf = (cause: unknown): readonly FieldError[] | null =>
  cause instanceof DomainError && 'errors' in cause ? (cause.errors as readonly FieldError[]) : inputErrorsOf(cause);

const internalMessage = 'An unexpected error occurred. It has been logged.';

const t = initTRPC.context<Context>().create({
  isDev: false,
  errorFormatter: ({ shape, error }) => {
    const inputErrors = inputErrorsOf(error.cause);
    return {
      ...shape,
      // A 500's message is the cause's; the caller gets a generic one and the log the cause. An
      // input's message is zod's JSON dump of its issues; the caller gets one readable line.
      message:
        error.code === 'INTERNAL_SERVER_ERROR' ? internalMessage : inputErrors !== null ? describeFieldErrors(inputErrors) : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        domainCode: error.cause instanceof DomainError ? error.cause.code : null,
        fieldErrors: fieldErrorsOf(error.cause),
      },
    };
  },
});

export const router = t.router;

/**
 * Domain errors, a request over its IP's budget (429), and a service that cannot serve right now
 * (503: the database, the per-IP count, saturated password hashing) as tRPC errors; null for
 * anything else. REST maps the same in rest/errors.ts.
 */
export const trpcErrorOf = (cause: unknown): TRPCError | null => {
  if (cause instanceof DomainError) return new TRPCError({ code: trpcCodes[cause.code], message: cause.message, cause });
  if (cause instanceof IpRateLimitedError) return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: cause.message, cause });
  if (unavailabilityOf(cause) !== null) return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: unavailableDetail, cause });
  return null;
};

const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (result.ok) return result;
  const mapped = trpcErrorOf(result.error.cause);
  if (mapped !== null) throw mapped;
  return result;
});

export const publicProcedure = t.procedure.use(mapErrors);

/** Needs a valid bearer access token; adds its holder to the context. */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const principal = await requirePrincipal(ctx.deps, ctx.authorization());
  ctx.noteClient(principal.clientId);
  return next({ ctx: { ...ctx, principal } });
});
