/** One invalid field of a request, as the server's problem details list it (`errors`). */
export interface PosAuthFieldError {
  /** The field, in the API's naming (`user_name`, `password`, `email`). */
  readonly path: string;
  readonly message: string;
}

export interface PosAuthErrorInit {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly fieldErrors?: readonly PosAuthFieldError[] | undefined;
  readonly requestId?: string | null | undefined;
  readonly cause?: unknown;
}

/**
 * What the SDK throws when pos-auth refuses a request. `code` is the OAuth `error` on the token
 * endpoints (`invalid_grant`, `invalid_client`, ...) and the problem's stable `code` elsewhere
 * (`USER_NAME_TAKEN`, `INVALID_TOKEN`, ...); an answer in neither shape (a proxy's HTML page)
 * gets `HTTP_<status>`. Two codes are the SDK's own, raised without a request:
 * `NOT_AUTHENTICATED` (status 401: no session is kept, log in first) and `INVALID_RESPONSE` (the
 * server answered success with a body that is not what the endpoint answers; `cause` is the
 * contract's parse error). Network failures are not wrapped: `fetch`'s own error propagates.
 *
 * @example
 * try {
 *   await auth.register({ userName: 'ana', password: 'correct horse battery' });
 * } catch (error) {
 *   if (error instanceof PosAuthError && error.code === 'USER_NAME_TAKEN') showTaken();
 *   else if (error instanceof PosAuthError && error.status === 400) showFieldErrors(error.fieldErrors);
 *   else throw error;
 * }
 */
export class PosAuthError extends Error {
  /** The HTTP status of the answer (401 for the SDK's own `NOT_AUTHENTICATED`). */
  readonly status: number;
  readonly code: string;
  /** The invalid fields of a 400, empty otherwise. */
  readonly fieldErrors: readonly PosAuthFieldError[];
  /** The server's `X-Request-Id` for this answer, to quote in a support request; null when unknown. */
  readonly requestId: string | null;

  constructor(init: PosAuthErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.fieldErrors = init.fieldErrors ?? [];
    this.requestId = init.requestId ?? null;
  }

  override get name(): string {
    return 'PosAuthError';
  }
}

export const notAuthenticated = (): PosAuthError =>
  new PosAuthError({ status: 401, code: 'NOT_AUTHENTICATED', message: 'No session is kept: log in first.' });
