/** A leaf of types only, so Node-side tooling (the bench) can name statements without the driver. */

/**
 * A statement of fixed text with its parameters (`$1`, `$2`, …), sent as it is and answered as
 * `db.execute` answers: `{ rows }`, one object per row. For a statement on the hot path, which drizzle
 * would otherwise build again from its template on every call (`services/document-statements.ts`).
 */
export interface TextStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** What `db.execute` answers through this driver (`fullResults`, rows as objects). */
export interface TextAnswer {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}
