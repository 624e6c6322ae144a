/**
 * The error codes of SPEC §3: the one list of them. Part of the contract — the typed client, the
 * OpenAPI document's error envelope and the room's `error` frames use it; which HTTP status a code
 * becomes is the HTTP boundary's (`http/error-response.ts`), and which error carries it is the
 * domain's (`errors.ts`).
 */

export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'AUTHENTICATION_REQUIRED',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'INSUFFICIENT_PERMISSIONS',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'DATABASE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * @example
 * isErrorCode('NOT_FOUND') // true
 * isErrorCode('23505') // false: a SQLSTATE is not a Signet code
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
