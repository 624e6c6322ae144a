/**
 * Collaborative documents from the database's side (SPEC §4.1): the body a room starts from, the room's
 * debounced save of its `body` text, and a body saved over HTTP pushed to the document's room.
 *
 * A save is one statement in the organization's tenant session (row-level security): the update — only
 * if the row is still at the version the room last saw — and one `documents.update` audit event per actor
 * whose edits it contains, each naming whom that actor acted for. A stale version is not an error: the
 * room merges the newer body (a PATCH it had not heard of) and saves again, so no edit is lost either way.
 *
 * Doesn't own: who may edit (the room checks `documents:write` on every frame), the Yjs state (rooms/).
 */
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { auditEvents, documents } from '../db/schema.ts';
import { tenantScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';
import type { Env } from '../env.ts';
import type { Editor } from '../rooms/shared-document.ts';
import type { TenantContext } from './tenant.ts';

export interface StoredBody {
  readonly body: string;
  readonly version: number;
}

export type SaveResult =
  | { readonly kind: 'saved'; readonly version: number }
  | { readonly kind: 'stale'; readonly current: StoredBody }
  | { readonly kind: 'missing' };

/** The session of a room's work in its organization, named after the actor it acts for. */
function roomScope(organizationId: string, actor: { type: string; id: string }) {
  return tenantScope({ type: actor.type, id: actor.id, organizationId });
}

/** The document's body and version, read as `actor` (who is joining); null when it no longer exists. */
export async function readStoredBody(
  db: Database,
  organizationId: string,
  actor: { type: string; id: string },
  documentId: string,
): Promise<StoredBody | null> {
  const [rows] = await runScoped(db, roomScope(organizationId, actor), [
    db.select({ body: documents.body, version: documents.version }).from(documents).where(eq(documents.id, documentId)),
  ]);
  const row = rows[0];
  return row ? { body: row.body, version: Number(row.version) } : null;
}

export interface RoomSave {
  readonly organizationId: string;
  readonly documentId: string;
  readonly body: string;
  /** The version the room last saw: the save lands only on it. */
  readonly version: number;
  readonly editors: readonly [Editor, ...Editor[]];
  readonly requestId: string;
}

/** Saves a room's body: `saved` with the new version, `stale` with the newer row, or `missing`. */
export async function saveRoomBody(db: Database, save: RoomSave): Promise<SaveResult> {
  const events = sql.join(
    save.editors.map(
      (e) =>
        sql`(${e.principal.type}, ${e.principal.id}, ${e.onBehalfOf?.type ?? null}::text, ${e.onBehalfOf?.id ?? null}::text)`,
    ),
    sql`, `,
  );
  const [changed, current] = await runScoped(db, roomScope(save.organizationId, save.editors[0].principal), [
    db.execute(sql`with changed as (
        update documents set body = ${save.body}, version = version + 1, updated_at = now()
        where id = ${save.documentId} and organization_id = ${save.organizationId} and version = ${save.version}
        returning id, version
      ), audited as (
        insert into audit_events (organization_id, actor_type, actor_id, action, resource_type, resource_id, outcome,
                                  request_id, on_behalf_of_type, on_behalf_of_id)
        select ${save.organizationId}::uuid, e.type, e.id, 'documents.update', 'document', changed.id::text, 'success',
               ${save.requestId}, e.on_behalf_of_type, e.on_behalf_of_id
        from changed cross join (values ${events}) as e(type, id, on_behalf_of_type, on_behalf_of_id)
        returning 1
      )
      select version from changed`),
    // Same transaction, after the update: the row as it now is, when the update found another version.
    db
      .select({ body: documents.body, version: documents.version })
      .from(documents)
      .where(eq(documents.id, save.documentId)),
  ]);
  const saved = changed.rows[0] as { version: number | string } | undefined;
  if (saved) return { kind: 'saved', version: Number(saved.version) };
  const row = current[0];
  return row ? { kind: 'stale', current: { body: row.body, version: Number(row.version) } } : { kind: 'missing' };
}

/**
 * Whether a room save whose answer was lost landed: its audit events carry its request id (they are written
 * in the same statement as the update, so they exist exactly when it did). Looks back an hour.
 */
export async function roomSaveLanded(
  db: Database,
  organizationId: string,
  actor: { type: string; id: string },
  requestId: string,
): Promise<boolean> {
  const [rows] = await runScoped(db, roomScope(organizationId, actor), [
    db
      .select({ id: auditEvents.id })
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.organizationId, organizationId),
          gte(auditEvents.at, sql`now() - interval '1 hour'`),
          eq(auditEvents.requestId, requestId),
        ),
      )
      .limit(1),
  ]);
  return rows.length > 0;
}

/**
 * A body saved over HTTP becomes a Yjs change in the document's open room (after which its text equals the
 * body, merged with any edits the room has not saved yet). A room that has no state yet has nothing to do.
 */
export async function pushBodyToRoom(env: Env, documentId: string, stored: StoredBody): Promise<void> {
  await env.ROOMS.get(env.ROOMS.idFromName(documentId)).mergeBody(stored.body, stored.version);
}

/** Rooms told at once when an organization's documents are forgotten (each is one RPC). */
const FORGET_IN_FLIGHT = 16;

/** Every document of the organization: its room closes what is open and deletes its Yjs state. Idempotent. */
export async function forgetRoomDocuments(ctx: TenantContext): Promise<void> {
  const [rows] = await runScoped(ctx.db, ctx.scope, [
    ctx.db.select({ id: documents.id }).from(documents).where(eq(documents.organizationId, ctx.organizationId)),
  ]);
  for (let i = 0; i < rows.length; i += FORGET_IN_FLIGHT) {
    await Promise.all(
      rows
        .slice(i, i + FORGET_IN_FLIGHT)
        .map((row) => ctx.env.ROOMS.get(ctx.env.ROOMS.idFromName(row.id)).deleteDocument()),
    );
  }
}
