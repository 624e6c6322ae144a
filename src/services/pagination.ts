/**
 * Cursor pagination (newest first): an opaque cursor encodes the last row's `(timestamp, id)`, and the
 * next page continues strictly after it, so inserts during paging neither repeat nor skip rows.
 */
import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import { base64url } from 'jose';
import { ValidationFailed } from '../errors.ts';
import { UUID } from '../uuid.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The cursor after a row: its `[timestamp, id]` as JSON, in unpadded base64url. */
export function encodeCursor(at: Date, id: string): string {
  return base64url.encode(JSON.stringify([at.toISOString(), id]));
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(utf8.decode(base64url.decode(cursor))) as [unknown, unknown];
    const date = new Date(String(at));
    if (typeof at !== 'string' || Number.isNaN(date.getTime()) || typeof id !== 'string' || !UUID.test(id))
      throw new Error();
    return { at: date, id };
  } catch {
    throw new ValidationFailed([{ path: 'cursor', message: 'The cursor is not valid.' }]);
  }
}

/**
 * The keyset condition for the page after `cursor` (newest first, ties broken by id), or nothing for
 * the first page. A row comparison, `(at, id) < (…, …)`, not the equivalent `at < … or (at = … and id <
 * …)`: PostgreSQL uses the row comparison as the index scan's start (an `Index Cond` on the list's
 * `(organization_id, at desc, id desc)` index), so a page after the first reads `limit + 1` entries;
 * the `or` is a bitmap scan of every older row, sorted (`test/tooling/rls-plans.test.ts`).
 */
export function afterCursor(at: AnyColumn, id: AnyColumn, cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const last = decodeCursor(cursor);
  return sql`(${at}, ${id}) < (${sql.param(last.at, at)}, ${sql.param(last.id, id)})`;
}

/**
 * Splits rows fetched with `limit + 1` into the page and the cursor of the next one (null on the last
 * page).
 */
export function pageOf<R>(
  rows: R[],
  limit: number,
  key: (row: R) => { at: Date; id: string },
): { page: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  if (rows.length <= limit || !last) return { page, nextCursor: null };
  const { at, id } = key(last);
  return { page, nextCursor: encodeCursor(at, id) };
}
