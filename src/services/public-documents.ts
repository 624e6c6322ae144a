/**
 * Public documents (SPEC §3 `GET /v1/public/documents/:id`): anyone, guests included, may read a
 * document whose visibility is `public`. The session asks for exactly that (`publicRead`), so row-level
 * security shows no private row even if this query were wrong.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { documents } from '../db/schema.ts';
import { publicReadScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';
import { NotFound } from '../errors.ts';
import { resourceId } from './ids.ts';

export interface PublicDocument {
  id: string;
  title: string;
  body: string;
  visibility: 'public';
  updatedAt: Date;
}

export async function readPublicDocument(
  db: Database,
  reader: { type: string; id: string },
  documentId: string,
): Promise<PublicDocument> {
  resourceId(documentId);
  const [rows] = await runScoped(db, publicReadScope(reader), [
    db
      .select({ id: documents.id, title: documents.title, body: documents.body, updatedAt: documents.updatedAt })
      .from(documents)
      .where(and(eq(documents.id, documentId), eq(documents.visibility, 'public'))),
  ]);
  const row = rows[0];
  if (!row) throw new NotFound();
  return { ...row, visibility: 'public' };
}
