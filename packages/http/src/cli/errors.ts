/**
 * A command refused what it was asked for a reason the operator can act on (a name that names no
 * one): printed as its message alone, exit code 1, like a domain error.
 */
export class CommandRefusedError extends Error {
  override readonly name = 'CommandRefusedError';
}
