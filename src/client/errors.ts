/** Errors the client raises: one class, the SPEC's stable `code`, the request id for support. */
import type { ErrorCode as ServerErrorCode } from '../contract/error-codes.ts';

export type ErrorCode = ServerErrorCode | 'NETWORK_ERROR';

export class SignetClientError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly requestId: string | null;
  readonly details: { path: string; message: string }[] | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    requestId: string | null,
    details?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'SignetClientError';
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.details = details;
  }
}

/** Narrows an unknown error to a Signet error with one of the given codes. */
export function isSignetError<C extends ErrorCode>(
  error: unknown,
  ...codes: C[]
): error is SignetClientError & { code: C } {
  return error instanceof SignetClientError && (codes.length === 0 || (codes as ErrorCode[]).includes(error.code));
}
