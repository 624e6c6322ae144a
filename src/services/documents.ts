/**
 * Documents (SPEC §3): list, create, read, update with optimistic concurrency, delete. Each action
 * declares its permission; each write and its audit event are one statement, and every action is one
 * database round trip.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type * as z from 'zod';
import type { CreateDocument, ListDocuments, UpdateDocument } from '../contract/requests.ts';
import { documents } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import { Conflict, NotFound } from '../errors.ts';
import { defineAction } from './action.ts';
import { withAudit } from './audit.ts';
import { pushBodyToRoom } from './collaboration.ts';
import { DOCUMENT_COLUMNS, documentById } from './document-statements.ts';
import { resourceId } from './ids.ts';
import { afterCursor, pageOf } from './pagination.ts';
import { closeDocumentRoom } from './rooms.ts';

export interface DocumentView {
  id: string;
  title: string;
  body: string;
  visibility: 'private' | 'public';
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** A malformed id names no document: 404, as for a missing one (never a 500 from a uuid cast). */
function documentId(id: string): string {
  return resourceId(id);
}

const RETURNING = sql`returning ${DOCUMENT_COLUMNS}, id as "resourceId"`;

interface Row {
  id: string;
  title: string;
  body: string;
  visibility: string;
  version: number;
  createdBy: string;
  createdAt: Date | string;
  updatedAt: Date | string;
}

function view(row: Row): DocumentView {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    visibility: row.visibility as DocumentView['visibility'],
    version: Number(row.version),
    createdBy: row.createdBy,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export const listDocuments = defineAction({
  name: 'documents.list',
  permission: 'documents:read',
  resource: 'document',
  async run(ctx, query: z.infer<typeof ListDocuments>) {
    const { db } = ctx;
    const [rows] = await runScoped(db, ctx.scope, [
      db
        .select()
        .from(documents)
        .where(
          and(
            eq(documents.organizationId, ctx.organizationId),
            afterCursor(documents.createdAt, documents.id, query.cursor),
          ),
        )
        .orderBy(desc(documents.createdAt), desc(documents.id))
        .limit(query.limit + 1),
    ]);
    const { page, nextCursor } = pageOf(rows, query.limit, (d) => ({ at: d.createdAt, id: d.id }));
    return { documents: page.map(view), nextCursor };
  },
});

export const readDocument = defineAction({
  name: 'documents.read',
  permission: 'documents:read',
  resource: 'document',
  resourceId: (id: string) => id,
  async run(ctx, id: string) {
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [documentById(ctx.organizationId, documentId(id))]);
    const row = result.rows[0] as unknown as Row | undefined;
    if (!row) throw new NotFound();
    return view(row);
  },
});

export const createDocument = defineAction({
  name: 'documents.create',
  permission: 'documents:write',
  resource: 'document',
  async run(ctx, input: z.infer<typeof CreateDocument>) {
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(
        withAudit(
          ctx,
          sql`insert into documents (organization_id, title, body, visibility, created_by)
              values (${ctx.organizationId}, ${input.title}, ${input.body}, ${input.visibility}, ${`${ctx.principal.type}:${ctx.principal.id}`})
              ${RETURNING}`,
        ),
      ),
    ]);
    return view(result.rows[0] as unknown as Row);
  },
});

export const updateDocument = defineAction({
  name: 'documents.update',
  permission: 'documents:write',
  resource: 'document',
  resourceId: (input: { id: string }) => input.id,
  after: [
    // The document's room takes the saved body as a Yjs change (SPEC §4.1) and the new version with it.
    async function mergeIntoRoom(ctx, _input, document: DocumentView) {
      await pushBodyToRoom(ctx.env, document.id, document);
    },
  ],
  async run(ctx, input: { id: string } & z.infer<typeof UpdateDocument>) {
    const { db } = ctx;
    const id = documentId(input.id);
    const [result, current] = await runScoped(db, ctx.scope, [
      db.execute(
        withAudit(
          ctx,
          sql`update documents set
                title = coalesce(${input.title ?? null}, title),
                body = coalesce(${input.body ?? null}, body),
                visibility = coalesce(${input.visibility ?? null}, visibility),
                version = version + 1,
                updated_at = now()
              where id = ${id} and organization_id = ${ctx.organizationId} and version = ${input.version}
              ${RETURNING}`,
        ),
      ),
      // Same transaction, after the update: tells a stale version (the row exists) from a missing row.
      db.select({ version: documents.version }).from(documents).where(eq(documents.id, id)),
    ]);
    const row = result.rows[0] as unknown as Row | undefined;
    if (row) return view(row);
    if (current[0]) throw new Conflict('The document was changed since that version; reload it and retry.');
    throw new NotFound();
  },
});

export const deleteDocument = defineAction({
  name: 'documents.delete',
  permission: 'documents:delete',
  resource: 'document',
  resourceId: (id: string) => id,
  after: [
    async function closeRoom(ctx, id) {
      await closeDocumentRoom(ctx.env, id);
    },
  ],
  async run(ctx, id: string) {
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(
        withAudit(
          ctx,
          sql`delete from documents where id = ${documentId(id)} and organization_id = ${ctx.organizationId}
              returning id, id as "resourceId"`,
        ),
      ),
    ]);
    if (!result.rows[0]) throw new NotFound();
    return { id };
  },
});
