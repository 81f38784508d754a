import { z } from 'zod';

/** One invalid field of a request: its path in the request's own naming, and what is wrong. */
export const fieldError = z
  .object({
    path: z.string().meta({ description: 'The field, as the request names it (`user_name`, `password`); `(body)` for the whole body.' }),
    message: z.string(),
  })
  .meta({ id: 'FieldError' });

/**
 * RFC 9457 problem details: what every endpoint but the token endpoints answers an error with
 * (`application/problem+json`). `code` is pos-auth's stable machine-readable extension; `errors`
 * lists the invalid fields of a 400.
 */
export const problemDetails = z
  .object({
    type: z.string().meta({ description: '`about:blank` when the status says it all, else `urn:pos-auth:problem:<code>`.' }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    code: z.string().optional().meta({ description: 'A stable code: `USER_NAME_TAKEN`, `INVALID_TOKEN`, `VALIDATION_FAILED`, ...' }),
    errors: z.array(fieldError).optional(),
  })
  .meta({ id: 'Problem' });

export type ProblemDetails = z.output<typeof problemDetails>;

/** The error codes of RFC 6749 §5.2 (and RFC 8628's `slow_down`) that the token endpoints answer. */
export const oauthErrorCodes = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'slow_down',
  'server_error',
  'temporarily_unavailable',
] as const;

/** An RFC 6749 §5.2 error body: what the token, revocation and introspection endpoints answer an error with. */
export const oauthError = z
  .object({
    error: z.enum(oauthErrorCodes),
    error_description: z.string(),
  })
  .meta({ id: 'OAuthError' });

export type OAuthError = z.output<typeof oauthError>;
