/**
 * The documents' SQL that more than the service reads: the single read, whose plan
 * `test/tooling/rls-plans.test.ts` checks and whose cost `npm run bench` times (`db.rls_overhead_ratio`),
 * exactly as `services/documents.ts` sends it. Statements only (text and drizzle's `sql`, no database, no actor),
 * so the Node-side tooling imports it as it is.
 */
import { sql } from 'drizzle-orm';
import type { TextStatement } from '../db/text-statement.ts';

/** A document's columns under the names the service's views read. */
const COLUMNS = `id, title, body, visibility, version, created_by as "createdBy",
  created_at as "createdAt", updated_at as "updatedAt"`;
export const DOCUMENT_COLUMNS = sql.raw(COLUMNS);

const DOCUMENT_BY_ID = `select ${COLUMNS} from documents
  where id = $1 and organization_id = $2`;

/**
 * `GET /v1/documents/:id`'s statement, with the explicit tenant filter every statement carries: fixed
 * text (`runScoped`'s `TextStatement`), not drizzle's select builder nor even its `sql` template. The
 * builder turned the same nine columns into the same text again on every request (about 70 µs of CPU in
 * workerd: its `is()` checks walk a class chain for every chunk); the template still walked its chunks,
 * a few µs more of the read's cost (`http.pipeline_vs_hono_cpu_ratio`).
 *
 * @example
 * runScoped(db, scope, [documentById(organizationId, id)]) // [{ rows: [{ id, title, …, updatedAt }] }]
 */
export function documentById(organizationId: string, id: string): TextStatement {
  return { sql: DOCUMENT_BY_ID, params: [id, organizationId] };
}
