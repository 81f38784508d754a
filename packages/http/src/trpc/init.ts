import { TRPCError, initTRPC } from '@trpc/server';
import type { CreateExpressContextOptions } from '@trpc/server/adapters/express';
import { DomainError, type AuthDeps, type DomainErrorCode, type FieldError } from '@pos-auth/domain';
import { requirePrincipal } from '../callers.js';
import { readAuthorization } from '../rest/credentials.js';
import { requestContext } from '../rest/request.js';

/** Per request: the use cases' ports, where the request came from, and its credentials (read lazily). */
export const createContextFactory =
  (deps: AuthDeps) =>
  ({ req }: CreateExpressContextOptions) => ({
    deps,
    requestContext: requestContext(req),
    authorization: () => readAuthorization(req),
  });

export type Context = Awaited<ReturnType<ReturnType<typeof createContextFactory>>>;

/** The one place where domain error codes become tRPC codes (and so HTTP statuses). */
const trpcCodes: Record<DomainErrorCode, TRPCError['code']> = {
  VALIDATION_FAILED: 'BAD_REQUEST',
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
  WRONG_EXPECTED_VERSION: 'CONFLICT',
  CLAIM_TAKEN: 'CONFLICT',
};

const fieldErrorsOf = (cause: unknown): FieldError[] | null => {
  if (cause instanceof DomainError && 'errors' in cause) return cause.errors as FieldError[];
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues)) return null;
  return issues.map((issue: { path?: PropertyKey[]; message: string }) => ({
    path: (issue.path ?? []).map(String).join('.') || '(input)',
    message: issue.message,
  }));
};

const t = initTRPC.context<Context>().create({
  isDev: false,
  errorFormatter: ({ shape, error }) => ({
    ...shape,
    // A 500's message is the cause's; the caller gets a generic one and the log the cause.
    message: error.code === 'INTERNAL_SERVER_ERROR' ? 'An unexpected error occurred. It has been logged.' : shape.message,
    data: {
      code: shape.data.code,
      httpStatus: shape.data.httpStatus,
      path: shape.data.path,
      domainCode: error.cause instanceof DomainError ? error.cause.code : null,
      fieldErrors: fieldErrorsOf(error.cause),
    },
  }),
});

export const router = t.router;

const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: trpcCodes[cause.code], message: cause.message, cause });
  }
  return result;
});

export const publicProcedure = t.procedure.use(mapDomainErrors);

/** Needs a valid bearer access token; adds its holder to the context. */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const principal = await requirePrincipal(ctx.deps, ctx.authorization());
  return next({ ctx: { ...ctx, principal } });
});
