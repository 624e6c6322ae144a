/**
 * Error codes are declared once (the contract's `ERROR_CODES`); `clientErrorCode` is the one way any
 * error becomes a code someone outside may see, and `PERMANENT_FAILURES` the one set of failures that
 * jobs and workflow steps don't retry.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/contract/error-codes.ts';
import { ErrorCode } from '../src/contract/schemas.ts';
import {
  AuthenticationRequired,
  Conflict,
  clientErrorCode,
  DatabaseUnavailable,
  InsufficientPermissions,
  isPermanentFailure,
  NotFound,
  PERMANENT_FAILURES,
  SignetError,
  ValidationFailed,
} from '../src/errors.ts';

describe('error codes', () => {
  it('are the contract’s list, which the response schema enumerates', () => {
    expect(ErrorCode.options).toEqual([...ERROR_CODES]);
  });

  it('reach a client only as a domain error’s own code; anything else is INTERNAL_ERROR', () => {
    expect(clientErrorCode(new NotFound())).toBe('NOT_FOUND');
    expect(clientErrorCode(new DatabaseUnavailable())).toBe('DATABASE_UNAVAILABLE');
    // A driver error's SQLSTATE, a look-alike object, a runtime error, a thrown string.
    expect(clientErrorCode(Object.assign(new Error('duplicate key value'), { code: '23505' }))).toBe('INTERNAL_ERROR');
    expect(clientErrorCode({ code: 'NOT_FOUND', message: 'forged' })).toBe('INTERNAL_ERROR');
    expect(clientErrorCode(new TypeError('x is undefined'))).toBe('INTERNAL_ERROR');
    expect(clientErrorCode('NOT_FOUND')).toBe('INTERNAL_ERROR');
    // A domain error whose code is not one of the contract's (untyped code) is not passed through either.
    class Odd extends SignetError {
      readonly code = 'ODD' as unknown as 'NOT_FOUND';
    }
    expect(clientErrorCode(new Odd())).toBe('INTERNAL_ERROR');
  });

  it('are permanent for refusals, missing things and bad input, and transient otherwise', () => {
    expect([...PERMANENT_FAILURES].sort()).toEqual([
      'AUTHENTICATION_REQUIRED',
      'INSUFFICIENT_PERMISSIONS',
      'NOT_FOUND',
      'VALIDATION_FAILED',
    ]);
    for (const error of [
      new InsufficientPermissions(),
      new AuthenticationRequired(),
      new NotFound(),
      new ValidationFailed([]),
    ]) {
      expect([error.code, isPermanentFailure(error)]).toEqual([error.code, true]);
    }
    for (const error of [new DatabaseUnavailable(), new Conflict(), new Error('boom'), { code: 'NOT_FOUND' }]) {
      expect(isPermanentFailure(error)).toBe(false);
    }
  });
});
