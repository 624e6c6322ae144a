/**
 * Audit (SPEC §3): exactly one event per mutation, in the same transaction; every 403 recorded as
 * `denied`; a transaction that fails after the change leaves neither change nor event.
 */
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { runScoped } from '../../src/db/session.ts';
import { defineAction } from '../../src/services/action.ts';
import { withAudit } from '../../src/services/audit.ts';
import { createExport } from '../../src/services/exports.ts';
import { aUser } from '../support/actors.ts';
import { adminSql } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { atFreshWindow, tightLimiter } from '../support/rate-limit.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

interface Event {
  action: string;
  outcome: string;
  actor: { type: string; id: string };
  resource: { type: string; id: string };
  requestId: string;
  organizationId: string;
}

async function eventsFor(t: Tenant, requestId: string): Promise<Event[]> {
  const { body } = await call('GET', '/v1/audit?limit=100', { token: t.tokens.owner });
  return (body as { events: Event[] }).events.filter((e) => e.requestId === requestId);
}

describe('the audit trail', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('records exactly one event per mutation, with actor, resource and request id', async () => {
    const created = await call('POST', '/v1/documents', { token: t.tokens.editor, body: { title: 'Audited' } });
    const id = (created.body as { document: { id: string } }).document.id;
    const requestId = created.headers.get('x-request-id')!;
    const events = await eventsFor(t, requestId);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'documents.create',
        outcome: 'success',
        actor: { type: 'user', id: expect.any(String) },
        resource: { type: 'document', id },
        organizationId: t.id,
      }),
    ]);
    const patched = await call('PATCH', `/v1/documents/${id}`, {
      token: t.tokens.editor,
      body: { title: 'B', version: 1 },
    });
    expect(await eventsFor(t, patched.headers.get('x-request-id')!)).toHaveLength(1);
    const deleted = await call('DELETE', `/v1/documents/${id}`, { token: t.tokens.admin });
    expect(await eventsFor(t, deleted.headers.get('x-request-id')!)).toEqual([
      expect.objectContaining({ action: 'documents.delete', outcome: 'success' }),
    ]);
  });

  it('records no event for a write that did not happen (stale version)', async () => {
    const doc = await createDoc(t.tokens.editor);
    await call('PATCH', `/v1/documents/${doc.id}`, { token: t.tokens.editor, body: { title: 'first', version: 1 } });
    const stale = await call('PATCH', `/v1/documents/${doc.id}`, {
      token: t.tokens.editor,
      body: { title: 'second', version: 1 },
    });
    expect(stale.status).toBe(409);
    expect(await eventsFor(t, stale.headers.get('x-request-id')!)).toEqual([]);
  });

  it('records every 403 as denied', async () => {
    const doc = await createDoc(t.tokens.editor);
    const refused = await call('DELETE', `/v1/documents/${doc.id}`, { token: t.tokens.viewer });
    expect(refused.status).toBe(403);
    expect(await eventsFor(t, refused.headers.get('x-request-id')!)).toEqual([
      expect.objectContaining({
        action: 'documents.delete',
        outcome: 'denied',
        actor: { type: 'user', id: t.userIds.viewer },
        resource: { type: 'document', id: doc.id },
      }),
    ]);
    const byService = await call('POST', '/v1/documents', { token: t.tokens.service, body: { title: 'no' } });
    expect(byService.status).toBe(403);
    expect(await eventsFor(t, byService.headers.get('x-request-id')!)).toEqual([
      expect.objectContaining({ outcome: 'denied', actor: { type: 'service', id: t.serviceKeyId } }),
    ]);
  });

  it("records the refusals of the users' own routes too, when a service asks (outside review)", async () => {
    const workflowId = crypto.randomUUID();
    const asked = [
      ['GET', '/v1/me/orgs', undefined, 'me.organizations.list', 'membership', '*'],
      ['POST', '/v1/orgs', { name: 'No', slug: 'not-by-a-service' }, 'organizations.create', 'organization', '*'],
      ['GET', `/v1/workflows/${workflowId.toUpperCase()}`, undefined, 'workflows.read', 'workflow', workflowId],
    ] as const;
    for (const [method, path, body, action, type, id] of asked) {
      const refused = await call(method, path, { token: t.tokens.service, ...(body ? { body } : {}) });
      expect(refused.status).toBe(403);
      expect(await eventsFor(t, refused.headers.get('x-request-id')!)).toEqual([
        expect.objectContaining({
          action,
          outcome: 'denied',
          actor: { type: 'service', id: t.serviceKeyId },
          resource: { type, id },
        }),
      ]);
    }
  });

  it('records refusals raised by rules inside an action, exactly like the permission check before it', async () => {
    const grantAdmin = await call('PATCH', `/v1/members/${t.userIds.editor}`, {
      token: t.tokens.admin,
      body: { role: 'admin' },
    });
    const broaderKey = await call('POST', '/v1/api-keys', {
      token: t.tokens.admin,
      body: { name: 'too much', scopes: ['org:delete'] },
    });
    const created = await call('POST', '/v1/api-keys', {
      token: t.tokens.owner,
      body: { name: 'deleter', scopes: ['org:delete'] },
    });
    const exchanged = await call('POST', '/v1/auth/token', {
      body: { grant_type: 'api_key', api_key: (created.body as { secret: string }).secret },
    });
    const serviceDeletes = await call('DELETE', '/v1/orgs/current', {
      token: (exchanged.body as { access_token: string }).access_token,
    });
    const cases = [
      [grantAdmin, 'members.change_role', 'member', t.userIds.editor, 'user'],
      [broaderKey, 'api_keys.create', 'api_key', '*', 'user'],
      [serviceDeletes, 'organizations.delete', 'organization', '*', 'service'],
    ] as const;
    for (const [response, action, type, id, actorType] of cases) {
      expect([response.status, errorCode(response.body)], action).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
      expect(await eventsFor(t, response.headers.get('x-request-id')!), action).toEqual([
        expect.objectContaining({
          action,
          outcome: 'denied',
          resource: { type, id },
          actor: expect.objectContaining({ type: actorType }),
        }),
      ]);
    }
  });

  it("names every event after the running action's definition: its name and resource, success or refusal", async () => {
    // An action that writes its event through `withAudit` without naming it: the name and the resource
    // come from its definition, on the tenant context.
    const touched = crypto.randomUUID();
    const probe = defineAction({
      name: 'test.probe',
      permission: 'documents:write',
      resource: 'probe',
      resourceId: (id: string) => id,
      async run(ctx, id: string) {
        await runScoped(ctx.db, ctx.scope, [ctx.db.execute(withAudit(ctx, sql`select ${id}::uuid as "resourceId"`))]);
      },
    });
    const ctxOf = (role: 'editor' | 'viewer') => ({
      actor: aUser({ id: t.userIds[role], organizationId: t.id, role }),
      requestId: crypto.randomUUID(),
      env,
      db: openDatabase(env),
      waitUntil: () => {},
    });
    const ran = ctxOf('editor');
    await probe(ran, touched);
    const refused = ctxOf('viewer');
    await expect(probe(refused, touched)).rejects.toMatchObject({ code: 'INSUFFICIENT_PERMISSIONS' });
    for (const [ctx, outcome] of [
      [ran, 'success'],
      [refused, 'denied'],
    ] as const) {
      expect(await eventsFor(t, ctx.requestId), outcome).toEqual([
        expect.objectContaining({ action: 'test.probe', outcome, resource: { type: 'probe', id: touched } }),
      ]);
    }
  });

  it('records an export as its action declares it, accepted or refused: a job', async () => {
    const { name, resource } = createExport.definition;
    expect([name, resource]).toEqual(['exports.create', 'job']);
    const doc = await createDoc(t.tokens.editor);
    const accepted = await call('POST', `/v1/documents/${doc.id}/exports`, { token: t.tokens.editor });
    expect(accepted.status).toBe(202);
    const jobId = (accepted.body as { job: { id: string } }).job.id;
    expect(await eventsFor(t, accepted.headers.get('x-request-id')!)).toEqual([
      expect.objectContaining({ action: name, outcome: 'success', resource: { type: resource, id: jobId } }),
    ]);
    // A refusal comes before any job exists: it names none, as every refused create does.
    const refused = await call('POST', `/v1/documents/${doc.id}/exports`, { token: t.tokens.service });
    expect(refused.status).toBe(403);
    expect(await eventsFor(t, refused.headers.get('x-request-id')!)).toEqual([
      expect.objectContaining({ action: name, outcome: 'denied', resource: { type: resource, id: '*' } }),
    ]);
  });

  it('records only well-formed resource ids for refusals: a path string never reaches the trail', async () => {
    const junk = `not-a-uuid-${'x'.repeat(200)}`;
    const refused = await call('DELETE', `/v1/documents/${junk}`, { token: t.tokens.viewer });
    expect(refused.status).toBe(403);
    const [event] = await eventsFor(t, refused.headers.get('x-request-id')!);
    expect(event?.resource).toEqual({ type: 'document', id: '*' });
    const upper = crypto.randomUUID().toUpperCase();
    const refusedUpper = await call('DELETE', `/v1/documents/${upper}`, { token: t.tokens.viewer });
    const [eventUpper] = await eventsFor(t, refusedUpper.headers.get('x-request-id')!);
    expect(eventUpper?.resource.id).toBe(upper.toLowerCase());
  });

  it("rate-limits an actor's refused attempts: past the limit 429 RATE_LIMITED, and no more events", async () => {
    // The Workers Rate Limiting binding itself, configured tight for the test (3 per 10 s).
    const tight = tightLimiter();
    const viewer = await createTenant();
    const doc = await createDoc(viewer.tokens.editor);
    const statuses: number[] = [];
    const ids: string[] = [];
    await atFreshWindow();
    for (let i = 0; i < 5; i++) {
      const response = await call('DELETE', `/v1/documents/${doc.id}`, {
        token: viewer.tokens.viewer,
        env: { ...env, DENIED_RATE_LIMIT: tight },
      });
      statuses.push(response.status);
      ids.push(response.headers.get('x-request-id')!);
      if (response.status === 429) expect(response.headers.get('retry-after')).toBe('60');
    }
    expect(statuses).toEqual([403, 403, 403, 429, 429]);
    const recorded = (await adminSql()`select request_id from audit_events
      where organization_id = ${viewer.id} and outcome = 'denied'`) as { request_id: string }[];
    expect(recorded.map((r) => r.request_id).sort()).toEqual(ids.slice(0, 3).sort());
    // Another actor is not affected.
    const other = await call('DELETE', `/v1/documents/${doc.id}`, {
      token: viewer.tokens.service,
      env: { ...env, DENIED_RATE_LIMIT: tight },
    });
    expect(other.status).toBe(403);
  });

  it('leaves neither the change nor its event when the transaction fails after the change', async () => {
    const doc = await createDoc(t.tokens.editor, { title: 'Before' });
    const admin = adminSql();
    // A real database fault, injected after the document update: the audit insert for this one
    // document fails (a trigger; SECURITY DEFINER so it can read its table from the tenant session).
    await admin`create table if not exists signet_test_faults (resource_id text primary key)`;
    await admin`create or replace function signet_test_fail_audit() returns trigger
      language plpgsql security definer set search_path = public as $$
      begin
        if exists (select 1 from signet_test_faults where resource_id = new.resource_id) then
          raise exception 'injected audit failure';
        end if;
        return new;
      end $$`;
    await admin`drop trigger if exists signet_test_fail_audit on audit_events`;
    await admin`create trigger signet_test_fail_audit before insert on audit_events for each row execute function signet_test_fail_audit()`;
    await admin`insert into signet_test_faults values (${doc.id})`;
    try {
      const response = await call('PATCH', `/v1/documents/${doc.id}`, {
        token: t.tokens.editor,
        body: { title: 'After', version: 1 },
      });
      expect(response.status).toBe(500);
      expect(JSON.stringify(response.body)).not.toContain('injected');
      const rows = await admin`select title, version from documents where id = ${doc.id}`;
      expect(rows).toEqual([{ title: 'Before', version: 1 }]);
      const events =
        await admin`select count(*)::int as n from audit_events where resource_id = ${doc.id} and action = 'documents.update'`;
      expect((events[0] as { n: number }).n).toBe(0);
    } finally {
      await admin`delete from signet_test_faults where resource_id = ${doc.id}`;
    }
  });
});
