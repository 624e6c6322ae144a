/**
 * The documents' SQL that more than the service reads: the single read, whose plan
 * `test/tooling/rls-plans.test.ts` checks and whose cost `npm run bench` times (`db.rls_overhead_ratio`),
 * exactly as `services/documents.ts` sends it. Statements only (drizzle's `sql`, no database, no actor),
 * so the Node-side tooling imports it as it is.
 */
import { type SQL, sql } from 'drizzle-orm';

/** A document's columns under the names the service's views read. */
export const DOCUMENT_COLUMNS = sql.raw(`id, title, body, visibility, version, created_by as "createdBy",
  created_at as "createdAt", updated_at as "updatedAt"`);

/**
 * `GET /v1/documents/:id`'s statement, with the explicit tenant filter every statement carries. A
 * template rather than drizzle's select builder, like the writes: the builder turns the same nine
 * columns into the same text again on every request, about 70 µs of CPU (its `is()` checks walk a class
 * chain for every chunk), where this template takes a tenth of that (`http.pipeline_vs_hono_cpu_ratio`).
 *
 * @example
 * db.execute(documentByIdSql(organizationId, id)) // rows: { id, title, body, …, createdAt, updatedAt }
 */
export function documentByIdSql(organizationId: string, id: string): SQL {
  return sql`select ${DOCUMENT_COLUMNS} from documents where id = ${id} and organization_id = ${organizationId}`;
}
