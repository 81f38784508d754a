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
}

/**
 * What the SDK throws when pos-auth refuses a request. `code` is the OAuth `error` on the token
 * endpoints (`invalid_grant`, `invalid_client`, ...) and the problem's stable `code` elsewhere
 * (`USER_NAME_TAKEN`, `INVALID_TOKEN`, ...); an answer without one gets `HTTP_<status>`. Two codes
 * are the SDK's own, raised without a request: `NOT_AUTHENTICATED` (status 401: no session is
 * kept, log in first) and `INVALID_RESPONSE` (the server answered success with a body the SDK
 * cannot read). Network failures are not wrapped: `fetch`'s own error propagates.
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
    super(init.message);
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

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

const fieldErrorsOf = (value: unknown): PosAuthFieldError[] =>
  Array.isArray(value)
    ? value
        .filter(isRecord)
        .map((item) => ({ path: String(item['path'] ?? ''), message: String(item['message'] ?? '') }))
    : [];

/**
 * Reads an error answer in either of the API's shapes: OAuth (`error`, `error_description`) on
 * the token endpoints, RFC 9457 problem details (`code`, `detail`, `errors`) elsewhere. Anything
 * else (a proxy's HTML page) still becomes a `PosAuthError` with the status.
 */
export const errorFromResponse = async (response: Response): Promise<PosAuthError> => {
  const body = await readJson(response);
  const requestId = response.headers.get('x-request-id');
  const status = response.status;
  if (isRecord(body) && typeof body['error'] === 'string') {
    const description = body['error_description'];
    return new PosAuthError({
      status,
      code: body['error'],
      message: typeof description === 'string' ? description : body['error'],
      requestId,
    });
  }
  if (isRecord(body) && (typeof body['detail'] === 'string' || typeof body['title'] === 'string')) {
    const code = body['code'];
    return new PosAuthError({
      status,
      code: typeof code === 'string' ? code : `HTTP_${status}`,
      message: String(body['detail'] ?? body['title']),
      fieldErrors: fieldErrorsOf(body['errors']),
      requestId,
    });
  }
  return new PosAuthError({
    status,
    code: `HTTP_${status}`,
    message: `pos-auth answered ${status}${response.statusText ? ` ${response.statusText}` : ''}.`,
    requestId,
  });
};

/** The body as JSON, or null when it is empty or not JSON. */
export const readJson = async (response: Response): Promise<unknown> => {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
};

export const invalidResponse = (response: Response, what: string): PosAuthError =>
  new PosAuthError({
    status: response.status,
    code: 'INVALID_RESPONSE',
    message: `pos-auth answered ${response.status} with ${what}.`,
    requestId: response.headers.get('x-request-id'),
  });

export { isRecord };
