/**
 * Domain errors: one base class with a stable string `code` (SPEC §3) and one subclass per failure,
 * in the manner of jose's `JOSEError`. Everything below the HTTP boundary throws these; only
 * `http/error-response.ts` knows which status each code becomes. Messages are fixed text: they never
 * carry a token, a secret, a query parameter or a driver's message.
 *
 * The codes themselves are the contract's (`contract/error-codes.ts`); what this module adds is which
 * failures are permanent (`PERMANENT_FAILURES`, for jobs and workflow steps alike) and the one way to
 * turn any error into a code a client may see (`clientErrorCode`).
 */
import { type ErrorCode, isErrorCode } from './contract/error-codes.ts';

export type { ErrorCode };

export interface ValidationIssue {
  path: string;
  message: string;
}

export abstract class SignetError extends Error {
  abstract readonly code: ErrorCode;
}

export class ValidationFailed extends SignetError {
  readonly code = 'VALIDATION_FAILED';
  readonly details: ValidationIssue[];
  constructor(details: ValidationIssue[], message = 'The request is not valid.') {
    super(message);
    this.details = details;
  }
}

export class AuthenticationRequired extends SignetError {
  readonly code = 'AUTHENTICATION_REQUIRED';
  constructor(message = 'Authentication is required.') {
    super(message);
  }
}

export class InvalidToken extends SignetError {
  readonly code = 'INVALID_TOKEN';
  constructor(message = 'The token is invalid.') {
    super(message);
  }
}

export class TokenExpired extends SignetError {
  readonly code = 'TOKEN_EXPIRED';
  constructor(message = 'The token has expired.') {
    super(message);
  }
}

export class TokenRevoked extends SignetError {
  readonly code = 'TOKEN_REVOKED';
  constructor(message = 'The token has been revoked.') {
    super(message);
  }
}

export class InsufficientPermissions extends SignetError {
  readonly code = 'INSUFFICIENT_PERMISSIONS';
  readonly permission: string | undefined;
  constructor(permission?: string, message = 'The actor lacks the permission for this action.') {
    super(message);
    this.permission = permission;
  }
}

export class NotFound extends SignetError {
  readonly code = 'NOT_FOUND';
  constructor(message = 'Not found.') {
    super(message);
  }
}

export class Conflict extends SignetError {
  readonly code = 'CONFLICT';
  constructor(message = 'The request conflicts with the current state.') {
    super(message);
  }
}

export class PayloadTooLarge extends SignetError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(message = 'The request body is too large.') {
    super(message);
  }
}

export class RateLimited extends SignetError {
  readonly code = 'RATE_LIMITED';
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, message = 'Too many requests.') {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class DatabaseUnavailable extends SignetError {
  readonly code = 'DATABASE_UNAVAILABLE';
  constructor(message = 'The database cannot be reached; nothing was written.') {
    super(message);
  }
}

export function isSignetError(error: unknown): error is SignetError {
  return error instanceof SignetError;
}

/**
 * Failures that retrying can't mend: the actor may not, the thing isn't there, the input is wrong. A
 * background job fails at once on one of these (`jobs/retry-policy.ts`), a workflow step stops the
 * workflow (`workflows/`); anything else — the database unreachable, an unexpected error — is retried.
 */
export const PERMANENT_FAILURES: ReadonlySet<ErrorCode> = new Set([
  'INSUFFICIENT_PERMISSIONS',
  'AUTHENTICATION_REQUIRED',
  'NOT_FOUND',
  'VALIDATION_FAILED',
]);

/**
 * @example
 * isPermanentFailure(new InsufficientPermissions()) // true: retrying can't help
 * isPermanentFailure(new DatabaseUnavailable()) // false
 */
export function isPermanentFailure(error: unknown): boolean {
  return PERMANENT_FAILURES.has(clientErrorCode(error));
}

/**
 * The code a client — or a failed job's record, a room's `error` frame — may see for any error: a domain
 * error's own code, and `INTERNAL_ERROR` for everything else. Another error's `code` (a driver's
 * SQLSTATE, a runtime's) never passes through.
 *
 * @example
 * clientErrorCode(new NotFound()) // 'NOT_FOUND'
 * clientErrorCode(Object.assign(new Error('duplicate key'), { code: '23505' })) // 'INTERNAL_ERROR'
 */
export function clientErrorCode(error: unknown): ErrorCode {
  return isSignetError(error) && isErrorCode(error.code) ? error.code : 'INTERNAL_ERROR';
}
