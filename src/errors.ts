/**
 * Domain errors: one base class with a stable string `code` (SPEC §3) and one subclass per failure,
 * in the manner of jose's `JOSEError`. Everything below the HTTP boundary throws these; only
 * `http/error-response.ts` knows which status each code becomes. Messages are fixed text: they never
 * carry a token, a secret, a query parameter or a driver's message.
 */

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'AUTHENTICATION_REQUIRED'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'INSUFFICIENT_PERMISSIONS'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'DATABASE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

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
