/**
 * Turns whatever the database driver throws into a small union of causes, then into a domain error,
 * so no driver message ever reaches a client (drizzle's approach with SQLSTATE codes).
 *
 * Every cause a client's input can produce is a 4xx: a value Postgres refuses (class 22, data exception:
 * NUL, bad encoding, out of range, …) or a program limit it hits (class 54) is 400 `VALIDATION_FAILED`;
 * a constraint (class 23) is 409 `CONFLICT` when it names existing state (unique, foreign key, exclusion)
 * and 400 when it names the value itself (not null, check); a serialization failure or a lock not
 * available is 409. The server out of resources or cancelling the statement is 503. What remains — a
 * syntax error, a missing column, row-level security refusing a write — is a defect of ours, rethrown
 * as it is (a 500, logged).
 */
import { Conflict, DatabaseUnavailable, isSignetError, type SignetError, ValidationFailed } from '../errors.ts';

export type DatabaseFailure =
  | 'unique'
  | 'foreign_key'
  | 'exclusion'
  | 'not_null'
  | 'check'
  | 'integrity'
  | 'data'
  | 'limit'
  | 'serialization'
  | 'lock'
  | 'insufficient_privilege'
  | 'timeout'
  | 'unavailable'
  | 'other';

const SQLSTATE: Record<string, DatabaseFailure> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23P01': 'exclusion',
  '23502': 'not_null',
  '23514': 'check',
  '40001': 'serialization',
  '40P01': 'serialization',
  '55P03': 'lock',
  '57014': 'timeout', // query_canceled (statement timeout, session.ts): nothing was committed
  '42501': 'insufficient_privilege',
  // invalid_parameter_value: an argument of our own statements is wrong — the scope statement's role does
  // not exist (the database is behind the Worker's migrations). Ours to fix, never the client's 400.
  '22023': 'other',
};

/** By SQLSTATE class, for the codes not named above. */
const CLASS: Record<string, DatabaseFailure> = {
  '08': 'unavailable', // connection exception
  '22': 'data',
  '23': 'integrity',
  '53': 'unavailable', // insufficient resources (disk full, out of memory, too many connections)
  '54': 'limit',
  '57': 'unavailable', // operator intervention (57P01 admin shutdown, …)
};

export function classifyDatabaseError(error: unknown): DatabaseFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return SQLSTATE[code] ?? CLASS[code.slice(0, 2)] ?? 'other';
  }
  // No SQLSTATE: the driver could not reach the database or its proxy at all (fetch failed, 5xx).
  return 'unavailable';
}

/** A domain error for a database failure; anything unexpected is rethrown as it is (it becomes a 500). */
export function toDomainError(error: unknown): SignetError | unknown {
  if (isSignetError(error)) return error;
  switch (classifyDatabaseError(error)) {
    case 'unique':
    case 'exclusion':
      return new Conflict('A resource with these values already exists.');
    case 'foreign_key':
    case 'integrity':
      return new Conflict('The request conflicts with the current state.');
    case 'serialization':
    case 'lock':
      return new Conflict('The resource was changed concurrently; retry.');
    case 'not_null':
    case 'check':
    case 'data':
      return new ValidationFailed([{ path: '', message: 'A value is not accepted by the database.' }]);
    case 'limit':
      return new ValidationFailed([{ path: '', message: 'The request exceeds a limit of the database.' }]);
    case 'timeout':
      return new DatabaseUnavailable('The database did not finish in time; nothing was written.');
    case 'unavailable':
      return new DatabaseUnavailable();
    default:
      return error;
  }
}
