import { oauthError, problemDetails, readResponse, type ResponseView, type RestEndpointWithBody } from '@pos-auth/contract';
import { PosAuthError } from './errors.js';

/** The body as JSON, or undefined when it is empty or not JSON. */
const readJson = async (response: Response): Promise<unknown> => {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * Reads an error answer in either of the API's shapes, as the contract defines them: an OAuth
 * error (`error`, `error_description`) on the token endpoints, RFC 9457 problem details (`code`,
 * `detail`, `errors`) elsewhere. Anything else (a proxy's HTML page, an empty 502) still becomes
 * a `PosAuthError` with the status, coded `HTTP_<status>`.
 *
 * @example
 * if (!response.ok) throw await errorFromResponse(response);
 */
export const errorFromResponse = async (response: Response): Promise<PosAuthError> => {
  const body = await readJson(response);
  const requestId = response.headers.get('x-request-id');
  const status = response.status;
  const oauth = oauthError.safeParse(body);
  if (oauth.success) {
    return new PosAuthError({ status, code: oauth.data.error, message: oauth.data.error_description, requestId });
  }
  const problem = problemDetails.safeParse(body);
  if (problem.success) {
    return new PosAuthError({
      status,
      code: problem.data.code ?? `HTTP_${status}`,
      message: problem.data.detail,
      fieldErrors: problem.data.errors ?? [],
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

/**
 * Reads a success's body with the contract's reader for its endpoint (`readResponse`): the
 * camelCase view, or a `PosAuthError` coded `INVALID_RESPONSE` whose `cause` says what did not fit.
 *
 * @example
 * const user = await readReply('GET /users/me', response); // { id, userName, role, ... }
 */
export const readReply = async <E extends RestEndpointWithBody>(endpoint: E, response: Response): Promise<ResponseView<E>> => {
  const body = await readJson(response);
  try {
    return readResponse(endpoint, body);
  } catch (cause) {
    throw new PosAuthError({
      status: response.status,
      code: 'INVALID_RESPONSE',
      message: `pos-auth answered ${endpoint} with ${response.status} and a body that is not what that endpoint answers.`,
      requestId: response.headers.get('x-request-id'),
      cause,
    });
  }
};

/** Lets the connection be reused when a body is not read (a 204's, or a 401's before a retry). */
export const discard = async (response: Response): Promise<void> => {
  await response.body?.cancel().catch(() => undefined);
};
