/**
 * RFC 6750 §3.1's error codes, `temporarily_unavailable` when pos-auth cannot be asked, and
 * `token_required` for a request without a Bearer token, whose challenge carries no error code
 * (§3.1) and whose body none either.
 */
export type AccessTokenErrorCode = 'token_required' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

const statuses: Record<AccessTokenErrorCode, 400 | 401 | 403 | 503> = {
  token_required: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

const descriptions: Record<AccessTokenErrorCode, string> = {
  token_required: 'An access token is required: send "Authorization: Bearer <access token>".',
  invalid_request: 'The Authorization header is malformed: send "Authorization: Bearer <access token>".',
  invalid_token: 'The access token is invalid, expired or revoked.',
  insufficient_scope: "The caller's role does not allow this request.",
  temporarily_unavailable: 'The access token cannot be checked right now. Try again shortly.',
};

/**
 * Why a request's access token was not accepted: `error` and `description` are for the caller
 * (one description per error code, whatever the cause), `reason` and `cause` for the resource
 * server's log only (`jwt_expired`, `jwt_claim_aud_check_failed`, `inactive`,
 * `jwks_unavailable`, ...).
 *
 * @example
 * try {
 *   const principal = await verifier.verify(token);
 * } catch (error) {
 *   if (error instanceof AccessTokenRefusal) logger.info({ reason: error.reason }, 'token refused');
 * }
 */
export class AccessTokenRefusal extends Error {
  readonly status: 400 | 401 | 403 | 503;
  readonly description: string;

  constructor(
    readonly error: AccessTokenErrorCode,
    readonly reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super(descriptions[error], options);
    this.status = statuses[error];
    this.description = descriptions[error];
  }

  override get name(): string {
    return 'AccessTokenRefusal';
  }
}
