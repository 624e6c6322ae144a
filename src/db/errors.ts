/**
 * Turns whatever the database driver throws into a small union of causes, then into a domain error,
 * so no driver message ever reaches a client (drizzle's approach with SQLSTATE codes).
 */
import { Conflict, DatabaseUnavailable, isSignetError, type SignetError } from '../errors.ts';

export type DatabaseFailure =
  | 'unique'
  | 'foreign_key'
  | 'check'
  | 'serialization'
  | 'insufficient_privilege'
  | 'unavailable'
  | 'other';

const SQLSTATE: Record<string, DatabaseFailure> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23514': 'check',
  '40001': 'serialization',
  '40P01': 'serialization',
  '42501': 'insufficient_privilege',
};

export function classifyDatabaseError(error: unknown): DatabaseFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (code.startsWith('08') || code.startsWith('57P0')) return 'unavailable';
    return SQLSTATE[code] ?? 'other';
  }
  // No SQLSTATE: the driver could not reach the database or its proxy at all (fetch failed, 5xx).
  return 'unavailable';
}

/** A domain error for a database failure; anything unexpected is rethrown as it is (it becomes a 500). */
export function toDomainError(error: unknown): SignetError | unknown {
  if (isSignetError(error)) return error;
  switch (classifyDatabaseError(error)) {
    case 'unique':
      return new Conflict('A resource with these values already exists.');
    case 'serialization':
      return new Conflict('The resource was changed concurrently; retry.');
    case 'unavailable':
      return new DatabaseUnavailable();
    default:
      return error;
  }
}
