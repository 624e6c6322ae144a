/**
 * The one place that knows HTTP status codes: domain errors become the SPEC §3 envelope
 * `{ error: { code, message, requestId, details? } }`. Anything that is not a domain error is logged
 * (without its message reaching the client) and answered as a plain 500.
 */
import { type ErrorCode, isSignetError, RateLimited, ValidationFailed } from '../errors.ts';
import { log } from '../observability/log.ts';
import { json } from './json.ts';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  AUTHENTICATION_REQUIRED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  INSUFFICIENT_PERMISSIONS: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

const AUTH_CODES: ReadonlySet<ErrorCode> = new Set([
  'AUTHENTICATION_REQUIRED',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
]);

export function errorResponse(error: unknown, requestId: string): Response {
  if (!isSignetError(error)) {
    log({ level: 'error', msg: 'unhandled error', requestId, error: (error as Error)?.name ?? typeof error });
    return envelope(500, 'INTERNAL_ERROR', 'Internal error.', requestId);
  }
  const headers = new Headers();
  if (AUTH_CODES.has(error.code)) {
    const detail = error.code === 'AUTHENTICATION_REQUIRED' ? '' : `, error="invalid_token"`;
    headers.set('www-authenticate', `Bearer realm="signet"${detail}`);
  }
  if (error instanceof RateLimited) headers.set('retry-after', String(error.retryAfterSeconds));
  const details = error instanceof ValidationFailed ? error.details : undefined;
  return envelope(STATUS[error.code], error.code, error.message, requestId, details, headers);
}

function envelope(
  status: number,
  code: ErrorCode,
  message: string,
  requestId: string,
  details?: unknown,
  headers = new Headers(),
): Response {
  const body = { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
  return json(body, { status, headers });
}
