/**
 * `runScoped` sends its batch through the Neon driver itself rather than drizzle's `db.batch`
 * (`src/db/session.ts`). These tests hold it to `db.batch`'s answers — the reference, sent with the
 * scope statement as drizzle would build it — for every kind of statement the services send, on the
 * real database behind the bridge; and check that the scope it sets is the one row-level security reads.
 */

import { env } from 'cloudflare:test';
import { and, desc, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, DEFAULT_ANSWER_WITHIN_MS, openDatabase } from '../../src/db/client.ts';
import { documents } from '../../src/db/schema.ts';
import { roleOf, type SessionScope, tenantScope } from '../../src/db/scopes.ts';
import { runScoped } from '../../src/db/session.ts';
import { isSignetError } from '../../src/errors.ts';
import { documentById } from '../../src/services/document-statements.ts';
import { adminSql, createDocument, createOrganization, database } from '../support/database.ts';

declare module 'vitest' {
  interface ProvidedContext {
    databaseKind: 'embedded' | 'postgres';
  }
}

/** The scope statement as drizzle builds it (what `runScoped` sent through `db.batch` before). */
function drizzleScope(db: Database, scope: SessionScope) {
  return db.execute(sql`select
    set_config('role', ${roleOf(scope)}, true),
    set_config('app.organization_id', ${scope.organizationId ?? ''}, true),
    set_config('app.user_id', ${scope.userId ?? ''}, true),
    set_config('app.actor_type', ${scope.actorType}, true),
    set_config('app.actor_id', ${scope.actorId}, true),
    set_config('app.bootstrap', ${scope.bootstrap ? 'on' : ''}, true),
    set_config('app.public_read', ${scope.publicRead ? 'on' : ''}, true),
    set_config('app.maintenance', ${scope.maintenance ? 'on' : ''}, true)`);
}

describe('runScoped', () => {
  let organization: { id: string };
  let document: { id: string };
  let scope: SessionScope;

  beforeAll(async () => {
    organization = await createOrganization();
    document = await createDocument(organization.id, { title: 'First', body: 'one' });
    await createDocument(organization.id, { title: 'Second', body: 'two' });
    scope = tenantScope({ type: 'user', id: crypto.randomUUID(), organizationId: organization.id });
  });

  it("answers every kind of read exactly as drizzle's batch does", async () => {
    const db = database();
    const reads = () =>
      [
        db
          .select()
          .from(documents)
          .where(eq(documents.organizationId, organization.id))
          .orderBy(desc(documents.createdAt), desc(documents.id)),
        db
          .select({ id: documents.id, version: documents.version, at: documents.updatedAt })
          .from(documents)
          .where(and(eq(documents.organizationId, organization.id), eq(documents.id, document.id))),
        db.execute(sql`select id, created_at as "createdAt", version from documents where id = ${document.id}`),
        db.select().from(documents).where(eq(documents.id, crypto.randomUUID())),
      ] as const;
    const [, ...reference] = await db.batch([drizzleScope(db, scope), ...reads()]);
    const answers = await runScoped(db, scope, reads());

    expect(answers).toEqual(reference);
    const [all, picked, raw] = answers;
    expect(all.map((d) => d.title)).toEqual(['Second', 'First']);
    expect(all[0]?.createdAt, 'timestamps mapped to Dates, as drizzle maps them').toBeInstanceOf(Date);
    expect(picked).toEqual([{ id: document.id, version: 1, at: expect.any(Date) }]);
    expect(raw.rows).toHaveLength(1);
  });

  it("gives each statement its share of 80 % of the batch's deadline: past it the database cancels, nothing written", async () => {
    const db = openDatabase(env, 10_000);
    const setting = sql`select current_setting('statement_timeout') as t`;
    const [one] = await runScoped(db, scope, [db.execute(setting)]);
    const [, two] = await runScoped(db, scope, [db.execute(sql`select 1`), db.execute(setting)]);
    expect([one.rows[0], two.rows[0]]).toEqual([{ t: '8s' }, { t: '4s' }]);
    // The embedded database (PGlite) takes the setting but never cancels a statement (README).
    if (inject('databaseKind') !== 'postgres') return;
    // 1.6 s for each of the two statements, 4 s for the Worker: the sleep is cancelled 2.4 s before the
    // Worker would give up, room enough for a busy CI machine to get the batch to its second statement.
    const quick = openDatabase(env, 4_000);
    const refused = await runScoped(quick, scope, [
      quick.update(documents).set({ body: 'never' }).where(eq(documents.id, document.id)),
      quick.execute(sql`select pg_sleep(3)`),
    ]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isSignetError(refused) && [refused.code, refused.message]).toEqual([
      'DATABASE_UNAVAILABLE',
      'The database did not finish in time; nothing was written.',
    ]);
    const [row] = (await adminSql()`select body from documents where id = ${document.id}`) as { body: string }[];
    expect(row?.body).toBe('one');
  });

  it('answers a text statement as db.execute answers the same SQL', async () => {
    const db = database();
    const statement = documentById(organization.id, document.id);
    const [reference] = await db.batch([
      db.execute(
        sql`select id, title, body, visibility, version, created_by as "createdBy", created_at as "createdAt", updated_at as "updatedAt" from documents where id = ${document.id} and organization_id = ${organization.id}`,
      ),
    ]);
    const [answer] = await runScoped(db, scope, [statement]);
    expect(answer.rows).toEqual(reference.rows);
    expect(answer.rows[0]).toMatchObject({ id: document.id, title: 'First', body: 'one', version: 1 });
  });

  it('answers writes with their returning rows, mapped as drizzle maps them', async () => {
    const db = database();
    const [inserted, updated, deleted] = await runScoped(db, scope, [
      db
        .insert(documents)
        .values({ organizationId: organization.id, title: 'Third', body: '', createdBy: `user:${scope.actorId}` })
        .returning({ id: documents.id, version: documents.version, createdAt: documents.createdAt }),
      db
        .update(documents)
        .set({ title: 'First, again', version: sql`${documents.version} + 1` })
        .where(eq(documents.id, document.id))
        .returning({ title: documents.title, version: documents.version }),
      db.delete(documents).where(eq(documents.id, crypto.randomUUID())).returning({ id: documents.id }),
    ]);
    expect(inserted).toEqual([{ id: expect.any(String), version: 1, createdAt: expect.any(Date) }]);
    expect(updated).toEqual([{ title: 'First, again', version: 2 }]);
    expect(deleted).toEqual([]);
    const [row] = await adminSql()`select title, version from documents where id = ${document.id}`;
    expect(row).toEqual({ title: 'First, again', version: 2 });
  });

  it('sets the role and the scope that row-level security reads, for that transaction only', async () => {
    const db = database();
    const probe = () =>
      db.execute(sql`select current_user as "role", current_setting('app.organization_id', true) as "organization",
        current_setting('app.user_id', true) as "user", current_setting('app.actor_type', true) as "actorType",
        current_setting('app.actor_id', true) as "actorId", current_setting('app.bootstrap', true) as "bootstrap",
        current_setting('app.public_read', true) as "publicRead", current_setting('app.maintenance', true) as "maintenance"`);
    const [inside] = await runScoped(db, scope, [probe()]);
    expect(inside.rows).toEqual([
      {
        role: 'signet_app',
        organization: organization.id,
        user: scope.actorId,
        actorType: 'user',
        actorId: scope.actorId,
        bootstrap: '',
        publicRead: '',
        maintenance: '',
      },
    ]);
    const [after] = await db.batch([probe()]);
    expect(after.rows[0]).toMatchObject({ organization: expect.not.stringMatching(organization.id) });
    expect((after.rows[0] as { role: string }).role).not.toBe('signet_app');
  });

  it('is one transaction: a failing statement leaves nothing of the batch, and maps to a domain error', async () => {
    const db = database();
    const title = `atomic-${crypto.randomUUID()}`;
    const error = await runScoped(db, scope, [
      db.insert(documents).values({ organizationId: organization.id, title, body: '', createdBy: 'user:x' }),
      db.execute(sql`select ${'not a uuid'}::uuid`),
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSignetError(error) && error.code).toBe('VALIDATION_FAILED');
    const rows = await adminSql()`select id from documents where title = ${title}`;
    expect(rows).toEqual([]);
  });
});

describe('how long a batch waits for its answer', () => {
  const url = 'postgresql://signet@db.example/signet';
  it('is DATABASE_TIMEOUT_MS when it is a whole number of milliseconds from 1 to 60,000, else 10 s', () => {
    const within = (setting?: string) =>
      openDatabase({ DATABASE_URL: url, DATABASE_TIMEOUT_MS: setting }).answerWithinMs;
    expect(DEFAULT_ANSWER_WITHIN_MS).toBe(10_000);
    expect([within('750'), within('1'), within('60000')]).toEqual([750, 1, 60_000]);
    for (const setting of [undefined, '', '0', '60001', '1e3', '0x10', '-5', '2.5', ' 750', 'soon']) {
      expect(within(setting), String(setting)).toBe(DEFAULT_ANSWER_WITHIN_MS);
    }
  });

  it("is the caller's own for background work, on a handle of its own", () => {
    const request = openDatabase({ DATABASE_URL: url });
    const job = openDatabase({ DATABASE_URL: url }, 50_000);
    expect([request.answerWithinMs, job.answerWithinMs]).toEqual([DEFAULT_ANSWER_WITHIN_MS, 50_000]);
    expect(job).not.toBe(request);
  });
});
