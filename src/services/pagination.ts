/**
 * Cursor pagination (newest first): an opaque cursor encodes the last row's `(timestamp, id)`, and the
 * next page continues strictly after it, so inserts during paging neither repeat nor skip rows.
 */
import * as z from 'zod';
import { ValidationFailed } from '../errors.ts';
import { UUID } from './ids.ts';

export const MAX_PAGE = 100;

/** `?cursor&limit` and nothing else: an unknown parameter (a client-chosen tenant, say) is refused. */
export const pageQuery = z.strictObject({
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
});

export function encodeCursor(at: Date, id: string): string {
  return btoa(JSON.stringify([at.toISOString(), id]))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))) as [unknown, unknown];
    const date = new Date(String(at));
    if (typeof at !== 'string' || Number.isNaN(date.getTime()) || typeof id !== 'string' || !UUID.test(id))
      throw new Error();
    return { at: date, id };
  } catch {
    throw new ValidationFailed([{ path: 'cursor', message: 'The cursor is not valid.' }]);
  }
}
