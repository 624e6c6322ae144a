/**
 * The cron trigger's maintenance: run as the system actor, audited as `system`, through a session that
 * reaches only what maintenance needs; business actions refuse the system actor.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/actor/system.ts';
import type { Context } from '../../src/context.ts';
import { maintenanceScope } from '../../src/db/scopes.ts';
import { runScoped } from '../../src/db/session.ts';
import type { Env } from '../../src/env.ts';
import worker from '../../src/index.ts';
import { auditRetentionDays, runMaintenance } from '../../src/jobs/maintenance.ts';
import { createDocument } from '../../src/services/documents.ts';
import { createExport, runExport } from '../../src/services/exports.ts';
import { readJob } from '../../src/services/jobs.ts';
import { aUser } from '../support/actors.ts';
import { adminSql, database } from '../support/database.ts';
import { call } from '../support/http.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

async function runCron(vars: Partial<Env> = {}): Promise<void> {
  const controller = createScheduledController({ scheduledTime: new Date(), cron: '*/15 * * * *' });
  const exec = createExecutionContext();
  await worker.scheduled(controller, { ...env, ...vars }, exec);
  await waitOnExecutionContext(exec);
}

interface SystemEvent {
  action: string;
  actor_id: string;
  resource_type: string;
  resource_id: string;
  outcome: string;
  request_id: string;
}

async function systemEvents(organizationId: string): Promise<SystemEvent[]> {
  const rows = await adminSql()`select action, actor_id, resource_type, resource_id, outcome, request_id
    from audit_events where organization_id = ${organizationId} and actor_type = 'system' order by action`;
  return rows as SystemEvent[];
}

async function insertJob(
  organizationId: string,
  actorId: string,
  fields: { status: string; result?: unknown; expiresAt?: string; updatedAt?: string },
): Promise<string> {
  const [row] = await adminSql()`insert into jobs (organization_id, kind, status, actor_type, actor_id, input, result,
      expires_at, updated_at)
    values (${organizationId}, 'export', ${fields.status}, 'user', ${actorId}, '{}'::jsonb,
      ${fields.result === undefined ? null : JSON.stringify(fields.result)}::jsonb,
      now() + ${fields.expiresAt ?? '7 days'}::interval, now() + ${fields.updatedAt ?? '0 seconds'}::interval)
    returning id`;
  return (row as { id: string }).id;
}

describe('scheduled maintenance', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('expires results, fails abandoned jobs, applies audit retention, prunes revocations — audited as system', async () => {
    const admin = adminSql();
    const owner = t.userIds.owner;
    const expired = await insertJob(t.id, owner, {
      status: 'succeeded',
      result: { title: 'old' },
      expiresAt: '-1 minute',
    });
    const fresh = await insertJob(t.id, owner, { status: 'succeeded', result: { title: 'new' } });
    const abandoned = await insertJob(t.id, owner, { status: 'running', updatedAt: '-2 days' });
    const running = await insertJob(t.id, owner, { status: 'running' });
    const [old] =
      await admin`insert into audit_events (organization_id, at, actor_type, actor_id, action, resource_type,
        resource_id, outcome, request_id)
      values (${t.id}, now() - interval '40 days', 'user', ${owner}, 'documents.read', 'document', 'x', 'success', 'r')
      returning id`;
    const stale = crypto.randomUUID();
    const recent = crypto.randomUUID();
    await admin`insert into revocations (organization_id, subject_type, subject_id, revoked_at) values
      (${t.id}, 'user', ${stale}, now() - interval '3 hours'), (${t.id}, 'user', ${recent}, now())`;

    await runCron({ AUDIT_RETENTION_DAYS: '30' });

    const jobs =
      await admin`select id, status, error_code, result from jobs where id in (${expired}, ${fresh}, ${abandoned}, ${running})`;
    const byId = new Map(jobs.map((j) => [j.id as string, j]));
    expect(byId.get(expired)).toMatchObject({ status: 'succeeded', result: null });
    expect(byId.get(fresh)).toMatchObject({ status: 'succeeded', result: { title: 'new' } });
    expect(byId.get(abandoned)).toMatchObject({ status: 'failed', error_code: 'INTERNAL_ERROR' });
    expect(byId.get(running)).toMatchObject({ status: 'running', error_code: null });
    expect(await admin`select id from audit_events where id = ${(old as { id: string }).id}`).toEqual([]);
    const revocations = await admin`select subject_id from revocations where organization_id = ${t.id}`;
    expect(revocations.map((r) => r.subject_id).filter((id) => id === stale || id === recent)).toEqual([recent]);

    // One event per organization and maintenance action that changed something, all from this run.
    const events = await systemEvents(t.id);
    expect(events).toEqual(
      [
        ['maintenance.expire_job_results', 'job'],
        ['maintenance.fail_abandoned_jobs', 'job'],
        ['maintenance.prune_revocations', 'revocation'],
        ['maintenance.purge_audit_events', 'audit_event'],
      ].map(([action, resource_type]) => ({
        action,
        actor_id: 'maintenance',
        resource_type,
        resource_id: '*',
        outcome: 'success',
        request_id: events[0]?.request_id,
      })),
    );
    // The organization's admins read them like any other event.
    const { body } = await call('GET', '/v1/audit?limit=100', { token: t.tokens.owner });
    const visible = (body as { events: { action: string; actor: unknown }[] }).events.filter((e) =>
      e.action.startsWith('maintenance.'),
    );
    expect(visible).toHaveLength(4);
    expect(visible.map((e) => e.actor)).toEqual(Array(4).fill({ type: 'system', id: 'maintenance' }));

    // Nothing left to do: the next run changes and records nothing here.
    await runCron({ AUDIT_RETENTION_DAYS: '30' });
    expect(await systemEvents(t.id)).toHaveLength(4);
  });

  it('keeps every audit event when the retention is unset or not a whole number of days', async () => {
    const org = await createTenant();
    const [old] = await adminSql()`insert into audit_events (organization_id, at, actor_type, actor_id, action,
        resource_type, resource_id, outcome, request_id)
      values (${org.id}, now() - interval '4000 days', 'user', 'u', 'documents.read', 'document', 'x', 'success', 'r')
      returning id`;
    await runCron();
    await runCron({ AUDIT_RETENTION_DAYS: 'ninety' });
    await runCron({ AUDIT_RETENTION_DAYS: '0' });
    expect(await adminSql()`select id from audit_events where id = ${(old as { id: string }).id}`).toHaveLength(1);
    expect(await systemEvents(org.id)).toEqual([]);
    expect([undefined, '', ' ', '0', '-3', '1.5', '90d'].map(auditRetentionDays)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(auditRetentionDays('90')).toBe(90);
  });
});

describe('the system actor', () => {
  const ctx = (actor: unknown) =>
    ({ actor, requestId: crypto.randomUUID(), env, db: database(), waitUntil: () => {} }) as Context;

  it('is refused every business action', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.editor);
    const system = ctx(systemActor('maintenance'));
    const attempts = [
      createDocument(system, { title: 'x', body: '', visibility: 'private' }),
      createExport(system, doc.id),
      runExport(system, { jobId: crypto.randomUUID(), attempt: 1, documentId: doc.id }),
      readJob(system, crypto.randomUUID()),
    ];
    for (const attempt of attempts) {
      await expect(attempt).rejects.toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
    }
    const jobs = await adminSql()`select count(*)::int as n from jobs where organization_id = ${t.id}`;
    expect(jobs).toEqual([{ n: 0 }]);
  });

  it('is the only actor that may run maintenance, and a look-alike is not it', async () => {
    for (const actor of [aUser({ role: 'owner' }), { type: 'system', reason: 'maintenance' }]) {
      await expect(runMaintenance(ctx(actor))).rejects.toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
    }
  });

  it('reaches, in a maintenance session, nothing but what maintenance needs', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.editor);
    const db = database();
    const scope = maintenanceScope('maintenance');
    for (const table of ['documents', 'memberships', 'api_keys', 'users', 'organizations']) {
      const [result] = await runScoped(db, scope, [db.execute(sql.raw(`select count(*)::int as n from ${table}`))]);
      expect([table, (result.rows[0] as { n: number }).n]).toEqual([table, 0]);
    }
    await runScoped(db, scope, [db.execute(sql`delete from documents where id = ${doc.id}`)]);
    expect(await adminSql()`select id from documents where id = ${doc.id}`).toHaveLength(1);
    // It records its work only as the system, and never writes a job's result.
    await expect(
      runScoped(db, scope, [
        db.execute(sql`insert into audit_events (organization_id, actor_type, actor_id, action, resource_type,
            resource_id, outcome, request_id)
          values (${t.id}, 'user', ${t.userIds.owner}, 'documents.delete', 'document', ${doc.id}, 'success', 'forged')`),
      ]),
    ).rejects.toBeDefined();
    const job = await insertJob(t.id, t.userIds.owner, { status: 'queued' });
    await expect(
      runScoped(db, scope, [db.execute(sql`update jobs set result = '{"forged": true}'::jsonb where id = ${job}`)]),
    ).rejects.toBeDefined();
    expect(await adminSql()`select result from jobs where id = ${job}`).toEqual([{ result: null }]);
  });
});
