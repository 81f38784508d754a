/**
 * The closed set of errors the domain reports. Each has a stable `code`; the transports map codes
 * to statuses in one place each. Messages are written for the client: nothing internal goes in.
 * Refusals that have a private reason carry it in `reason`, for the log only.
 */
export type DomainErrorCode =
  | ValidationErrorCode
  | 'USER_NAME_TAKEN'
  | 'EMAIL_TAKEN'
  | 'ROLE_ELEVATION_FORBIDDEN'
  | 'FORBIDDEN'
  | 'LAST_ADMIN'
  | 'INVALID_CLIENT'
  | 'INVALID_GRANT'
  | 'INVALID_TOKEN'
  | 'TOKEN_OF_ANOTHER_CLIENT'
  | 'AUTHENTICATION_REQUIRED'
  | 'TOO_MANY_ATTEMPTS'
  | 'CLIENT_ALREADY_REGISTERED'
  | 'CLIENT_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'SESSION_NOT_FOUND'
  | 'WRONG_EXPECTED_VERSION'
  | 'CLAIM_TAKEN';

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  override get name(): string {
    return this.constructor.name;
  }
}

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/**
 * A request with invalid fields. The code is VALIDATION_FAILED, or, when the password policy's
 * dictionary or user-name rule is the only thing wrong, that rule's own code, so that a client can
 * tell the user what to change without parsing messages.
 */
export type ValidationErrorCode = 'VALIDATION_FAILED' | 'PASSWORD_TOO_COMMON' | 'PASSWORD_CONTAINS_USER_NAME';

const validationMessages: Record<ValidationErrorCode, string> = {
  VALIDATION_FAILED: 'The request is invalid.',
  PASSWORD_TOO_COMMON: 'The password is too common: choose one that is not on lists of frequent or leaked passwords.',
  PASSWORD_CONTAINS_USER_NAME: 'The password must not contain the user name.',
};

export class ValidationError extends DomainError {
  constructor(
    readonly errors: readonly FieldError[],
    readonly code: ValidationErrorCode = 'VALIDATION_FAILED',
  ) {
    super(validationMessages[code]);
  }
}

export class UserNameTakenError extends DomainError {
  readonly code = 'USER_NAME_TAKEN';
  constructor() {
    super('This user name is already taken.');
  }
}

export class EmailTakenError extends DomainError {
  readonly code = 'EMAIL_TAKEN';
  constructor() {
    super('This email address is already registered.');
  }
}

export class RoleElevationForbiddenError extends DomainError {
  readonly code = 'ROLE_ELEVATION_FORBIDDEN';
  constructor() {
    super('Only an admin may create an account with a role other than patron.');
  }
}

/** A valid caller asked for something its role does not allow. */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** The change would leave the system without an active admin. */
export class LastAdminError extends DomainError {
  readonly code = 'LAST_ADMIN';
  constructor() {
    super('The last active admin can be neither demoted, disabled nor erased.');
  }
}

/** Client authentication failed. One message whatever the reason; the reason goes to the log. */
export class InvalidClientError extends DomainError {
  readonly code = 'INVALID_CLIENT';
  constructor(readonly reason = 'unknown_client_or_wrong_secret') {
    super('Client authentication failed.');
  }
}

/**
 * A grant was refused: wrong user name or password, unknown, expired, revoked or reused refresh
 * token. The reason goes to the log; the client sees one message per grant type.
 */
export class InvalidGrantError extends DomainError {
  readonly code = 'INVALID_GRANT';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export class InvalidTokenError extends DomainError {
  readonly code = 'INVALID_TOKEN';
  constructor(readonly reason = 'unknown_token') {
    super('The access token is missing, invalid or expired.');
  }
}

/**
 * A client asked to revoke a token issued to another client. RFC 7009 §2.1: the request is refused
 * and the client told so (an unknown token, by contrast, is answered as revoked).
 */
export class TokenOfAnotherClientError extends DomainError {
  readonly code = 'TOKEN_OF_ANOTHER_CLIENT';
  readonly reason = 'token_of_another_client';
  constructor() {
    super('The client is not authorized to revoke this token.');
  }
}

/** A protected operation was called without any access token. */
export class AuthenticationRequiredError extends DomainError {
  readonly code = 'AUTHENTICATION_REQUIRED';
  constructor() {
    super('An access token is required.');
  }
}

/** A login for a user name inside its back-off window: refused without checking the password. */
/** A login refused unchecked: the user name's back-off window is open for `retryAfterSeconds` more. */
export class TooManyAttemptsError extends DomainError {
  readonly code = 'TOO_MANY_ATTEMPTS';
  constructor(
    readonly retryAfterSeconds: number,
    /** For the log only. */
    readonly reason: string,
  ) {
    super('Too many failed logins for this user name. Try again later.');
  }
}

export class ClientAlreadyRegisteredError extends DomainError {
  readonly code = 'CLIENT_ALREADY_REGISTERED';
  constructor(readonly clientId: string) {
    super(`A client with id "${clientId}" is already registered.`);
  }
}

export class ClientNotFoundError extends DomainError {
  readonly code = 'CLIENT_NOT_FOUND';
  constructor() {
    super('No such client.');
  }
}

export class UserNotFoundError extends DomainError {
  readonly code = 'USER_NOT_FOUND';
  constructor() {
    super('No such user.');
  }
}

export class SessionNotFoundError extends DomainError {
  readonly code = 'SESSION_NOT_FOUND';
  constructor() {
    super('No such active session.');
  }
}

/** An append found the stream at another version than expected (an `EventStore` outcome). */
export class WrongExpectedVersionError extends DomainError {
  readonly code = 'WRONG_EXPECTED_VERSION';
  constructor(
    readonly streamId: string,
    readonly expected: string,
  ) {
    super(`Stream ${streamId} is not at the expected version ${expected}.`);
  }
}

/** An append tried to claim a unique value another stream holds (an `EventStore` outcome). */
export class ClaimTakenError extends DomainError {
  readonly code = 'CLAIM_TAKEN';
  constructor(
    readonly kind: string,
    readonly value: string,
  ) {
    super(`The ${kind} claim is already held.`);
  }
}
