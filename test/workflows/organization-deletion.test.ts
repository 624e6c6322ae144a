/**
 * Organization deletion end to end (SPEC §3): a durable workflow whose every step runs — and is
 * audited — as the initiating owner, rebuilt at that step; rooms closed with 4003, tokens refused with
 * TOKEN_REVOKED, data gone, the deletion record kept; the owner losing org:delete mid-way stops it; a
 * step failing once is retried.
 */

import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { systemActor } from '../../src/actor/system.ts';
import { openDatabase } from '../../src/db/client.ts';
import { writeFinalExport } from '../../src/services/organization-deletion.ts';
import { devToken } from '../support/actors.ts';
import { adminSql } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { connected, withTimeout } from '../support/sockets.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

interface Workflow {
  id: string;
  status: string;
  error?: { code: string };
  steps: { name: string; status: string; attempts: number; error?: { code: string } }[];
  finalExport?: { documents: { title: string }[] };
}

async function startDeletion(t: Tenant): Promise<string> {
  const response = await call('DELETE', '/v1/orgs/current', { token: t.tokens.owner });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  const { workflow } = response.body as { workflow: { id: string; status: string } };
  expect(workflow.status).toBe('running');
  return workflow.id;
}

/** Polls the deletion record as the owner (an org-less token: the organization's tokens are revoked). */
async function waitForWorkflow(
  t: Tenant,
  id: string,
  done: (w: Workflow) => boolean,
  timeoutMs = 30_000,
): Promise<Workflow> {
  const token = await devToken(t.emails.owner);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await call('GET', `/v1/workflows/${id}`, { token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const { workflow } = response.body as { workflow: Workflow };
    if (done(workflow)) return workflow;
    if (Date.now() > deadline) throw new Error(`workflow never reached the state: ${JSON.stringify(workflow)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function deletionEvents(orgId: string) {
  return (await adminSql()`select action, actor_type, actor_id, outcome from audit_events
    where organization_id = ${orgId} and action like 'organizations.delete%' order by at, action`) as {
    action: string;
    actor_type: string;
    actor_id: string;
    outcome: string;
  }[];
}

describe('organization deletion', () => {
  it('revokes tokens, closes rooms, exports, deletes the data and keeps the record — every step as the owner', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.editor, { title: 'Keep me in the export' });
    const sockets = await Promise.all([connected(doc.id, t.tokens.editor), connected(doc.id, t.tokens.service)]);

    const id = await startDeletion(t);
    const workflow = await waitForWorkflow(t, id, (w) => w.status !== 'running');
    expect(workflow.status).toBe('succeeded');
    expect(workflow.steps.map((s) => [s.name, s.status])).toEqual([
      ['revoke-access', 'succeeded'],
      ['close-rooms', 'succeeded'],
      ['final-export', 'succeeded'],
      ['delete-data', 'succeeded'],
    ]);
    expect(workflow.finalExport?.documents.map((d) => d.title)).toEqual(['Keep me in the export']);

    // Rooms closed with 4003.
    const closes = await withTimeout(Promise.all(sockets.map((s) => s.closed)), 5000, 'rooms closed');
    expect(closes.map((c) => c.code)).toEqual([4003, 4003]);
    // The document's room forgot its Yjs state with it.
    expect(await env.ROOMS.get(env.ROOMS.idFromName(doc.id)).documentState()).toBeNull();
    // Every token of the organization refused.
    for (const token of [t.tokens.owner, t.tokens.editor, t.tokens.service]) {
      const response = await call('GET', '/v1/documents', { token });
      expect([response.status, errorCode(response.body)]).toEqual([401, 'TOKEN_REVOKED']);
    }
    // No new token for it either.
    const exchange = await call('POST', '/v1/auth/token', {
      body: { grant_type: 'dev', email: t.emails.owner, organization: t.slug },
    });
    expect(exchange.status).toBe(404);
    // The data is gone; the record stays.
    const sql = adminSql();
    for (const table of ['documents', 'memberships', 'api_keys', 'jobs']) {
      const [row] = await sql.query(`select count(*)::int as n from ${table} where organization_id = $1`, [t.id]);
      expect((row as { n: number }).n, table).toBe(0);
    }
    expect(await sql`select id from organizations where id = ${t.id}`).toEqual([]);
    const [record] = await sql`select status, initiated_by from organization_deletions where id = ${id}`;
    expect(record).toEqual({ status: 'succeeded', initiated_by: t.userIds.owner });
    // Every step audited as the owner — never as the system actor.
    const events = await deletionEvents(t.id);
    expect(events.map((e) => e.action).sort()).toEqual(
      [
        'organizations.delete',
        'organizations.delete.close_rooms',
        'organizations.delete.delete_data',
        'organizations.delete.final_export',
        'organizations.delete.revoke_access',
      ].sort(),
    );
    for (const event of events)
      expect(event).toMatchObject({ actor_type: 'user', actor_id: t.userIds.owner, outcome: 'success' });
  }, 60_000);

  it('stops failed with INSUFFICIENT_PERMISSIONS when the owner loses org:delete mid-way; nothing after runs', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.editor);
    const id = await startDeletion(t);
    await waitForWorkflow(t, id, (w) => w.steps[0]!.status === 'succeeded');
    // Between steps (the workflow drains in-flight requests for 2 s), the owner is demoted.
    await adminSql()`update memberships set role = 'admin' where organization_id = ${t.id} and user_id = ${t.userIds.owner}`;
    const workflow = await waitForWorkflow(t, id, (w) => w.status !== 'running');
    expect(workflow).toMatchObject({ status: 'failed', error: { code: 'INSUFFICIENT_PERMISSIONS' } });
    expect(workflow.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'pending', 'pending']);
    expect(workflow.finalExport).toBeUndefined();
    // Nothing after the refused step happened: the data is still there.
    expect(await adminSql()`select id from documents where id = ${doc.id}`).toEqual([{ id: doc.id }]);
    const events = await deletionEvents(t.id);
    expect(events.find((e) => e.action === 'organizations.delete.close_rooms')).toMatchObject({
      outcome: 'denied',
      actor_type: 'user',
    });
    expect(events.some((e) => e.action === 'organizations.delete.delete_data')).toBe(false);
    // The audit trail says what happened, as the owner.
    expect(events.find((e) => e.action === 'organizations.delete.failed')).toMatchObject({
      outcome: 'failure',
      actor_type: 'user',
      actor_id: t.userIds.owner,
    });

    // A failed deletion never locks the organization (SPEC §3): its owners sign in and use it again …
    await adminSql()`update memberships set role = 'owner' where organization_id = ${t.id} and user_id = ${t.userIds.owner}`;
    const owner = await devToken(t.emails.owner, t.slug);
    expect((await call('GET', `/v1/documents/${doc.id}`, { token: owner })).status).toBe(200);
    expect(await devToken(t.emails.editor, t.slug)).toBeTruthy();
    // … and may start a new deletion, which runs to the end.
    const retry = await call('DELETE', '/v1/orgs/current', { token: owner });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    const second = (retry.body as { workflow: { id: string } }).workflow.id;
    expect(second).not.toBe(id);
    const done = await waitForWorkflow(t, second, (w) => w.status !== 'running');
    expect(done.status).toBe('succeeded');
    const records =
      await adminSql()`select status from organization_deletions where organization_id = ${t.id} order by requested_at`;
    expect(records.map((r) => (r as { status: string }).status)).toEqual(['failed', 'succeeded']);
  }, 90_000);

  it('retries a step that fails once, and then succeeds', async () => {
    const t = await createTenant();
    await createDoc(t.tokens.editor);
    const sql = adminSql();
    // A real database fault: the first write of this organization's final export raises; a sequence
    // counts attempts because it survives the failed transaction.
    const seq = `signet_test_fault_${t.id.replaceAll('-', '')}`;
    await sql.query(`create sequence ${seq}`);
    await sql.query(`create or replace function ${seq}_fn() returns trigger language plpgsql security definer set search_path = public as $$
      begin
        if new.final_export is not null and old.final_export is null and nextval('${seq}') = 1 then
          raise exception 'injected export failure';
        end if;
        return new;
      end $$`);
    await sql.query(`create trigger ${seq}_tr before update on organization_deletions for each row
      when (new.organization_id = '${t.id}') execute function ${seq}_fn()`);
    try {
      const id = await startDeletion(t);
      const workflow = await waitForWorkflow(t, id, (w) => w.status !== 'running', 45_000);
      expect(workflow.status).toBe('succeeded');
      expect(workflow.steps.find((s) => s.name === 'final-export')).toMatchObject({ status: 'succeeded', attempts: 2 });
      const exports = (await deletionEvents(t.id)).filter((e) => e.action === 'organizations.delete.final_export');
      expect(exports).toHaveLength(1); // the failed attempt left no event behind
    } finally {
      await sql.query(`drop trigger if exists ${seq}_tr on organization_deletions`);
    }
  }, 60_000);

  it('refuses a second deletion while one runs (409), deletion by a non-owner (403), and shows the workflow to no one else (404)', async () => {
    const t = await createTenant();
    const byAdmin = await call('DELETE', '/v1/orgs/current', { token: t.tokens.admin });
    expect([byAdmin.status, errorCode(byAdmin.body)]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
    const id = await startDeletion(t);
    const again = await call('DELETE', '/v1/orgs/current', {
      token: await devToken(t.emails.owner, t.slug).catch(() => t.tokens.owner),
    });
    expect([401, 404, 409]).toContain(again.status);
    const stranger = await devToken(t.emails.admin);
    const peek = await call('GET', `/v1/workflows/${id}`, { token: stranger });
    expect([peek.status, errorCode(peek.body)]).toEqual([404, 'NOT_FOUND']);
    await waitForWorkflow(t, id, (w) => w.status !== 'running');
  }, 60_000);

  it('never runs a step as the system actor', async () => {
    const ctx = { actor: systemActor('maintenance'), requestId: 'r', env, db: openDatabase(env), waitUntil: () => {} };
    await expect(writeFinalExport(ctx, crypto.randomUUID())).rejects.toMatchObject({
      code: 'INSUFFICIENT_PERMISSIONS',
    });
  });
});
