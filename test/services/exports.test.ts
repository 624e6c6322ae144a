/**
 * Exports through HTTP (SPEC §3): `POST /v1/documents/:id/exports` records a queued job and enqueues a
 * message with an actor reference; the real local queue delivers it to the consumer, which runs it as
 * the rebuilt actor; `GET /v1/jobs/:id` shows it to its creator and to admins only.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { acceptedExport, deliver, enqueueExport, eventsAbout, type JobBody, waitForJob } from '../support/jobs.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

describe('exports', () => {
  let t: Tenant;
  let other: Tenant;
  beforeAll(async () => {
    [t, other] = await Promise.all([createTenant(['documents:read', 'rooms:join']), createTenant()]);
  });

  it('are queued by POST (202) and run by the real queue to succeeded', async () => {
    const doc = await createDoc(t.tokens.editor, { title: 'Quarterly', body: 'numbers' });
    const response = await call('POST', `/v1/documents/${doc.id}/exports`, { token: t.tokens.editor });
    expect(response.status).toBe(202);
    const queued = (response.body as JobBody).job;
    expect(queued).toMatchObject({ kind: 'export', status: 'queued', documentId: doc.id, attempts: 0 });
    expect(queued).not.toHaveProperty('result');
    // Delivered by the local queue (max_batch_timeout 1 s); bounded wait, asserting the outcome.
    const job = await waitForJob(t.tokens.editor, queued.id);
    expect(job).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      result: { title: 'Quarterly', body: 'numbers', version: 1, exportedAt: expect.any(String) },
      expiresAt: expect.any(String),
    });
    expect(job).not.toHaveProperty('error');
  });

  it('run once as the rebuilt actor, with one audit event for the request and one for the run', async () => {
    const doc = await createDoc(t.tokens.editor, { title: 'Snapshot', body: 'v1' });
    await call('PATCH', `/v1/documents/${doc.id}`, { token: t.tokens.editor, body: { body: 'v2', version: 1 } });
    const { jobId, message } = await acceptedExport(t.tokens.viewer, doc.id);
    // The message is a reference, not an actor or a token.
    expect(message).toEqual({
      kind: 'export',
      jobId,
      actor: { type: 'user', id: t.userIds.viewer, organizationId: t.id },
    });
    expect(JSON.stringify(message)).not.toMatch(/eyJ|role|token|scope/);

    const result = await deliver([{ id: 'happy-1', attempts: 1, body: message }]);
    expect(result).toMatchObject({ explicitAcks: ['happy-1'], retryMessages: [] });
    const { body } = await call('GET', `/v1/jobs/${jobId}`, { token: t.tokens.viewer });
    expect((body as JobBody).job).toMatchObject({
      id: jobId,
      status: 'succeeded',
      attempts: 1,
      result: { title: 'Snapshot', body: 'v2', version: 2 },
    });
    expect(await eventsAbout(jobId)).toEqual([
      expect.objectContaining({ action: 'exports.create', outcome: 'success', actor_id: t.userIds.viewer }),
      expect.objectContaining({
        action: 'exports.run',
        outcome: 'success',
        actor_type: 'user',
        actor_id: t.userIds.viewer,
        resource_type: 'job',
      }),
    ]);
  });

  it('are visible to their creator and to admins and owners, and to nobody else', async () => {
    const doc = await createDoc(t.tokens.editor);
    const { jobId } = await acceptedExport(t.tokens.editor, doc.id);
    for (const who of ['editor', 'admin', 'owner'] as const) {
      const response = await call('GET', `/v1/jobs/${jobId}`, { token: t.tokens[who] });
      expect([who, response.status]).toEqual([who, 200]);
    }
    const viewer = await call('GET', `/v1/jobs/${jobId}`, { token: t.tokens.viewer });
    expect([viewer.status, errorCode(viewer.body)]).toEqual([404, 'NOT_FOUND']);
    const otherOwner = await call('GET', `/v1/jobs/${jobId}`, { token: other.tokens.owner });
    expect([otherOwner.status, errorCode(otherOwner.body)]).toEqual([404, 'NOT_FOUND']);
    const malformed = await call('GET', '/v1/jobs/not-a-uuid', { token: t.tokens.owner });
    expect(malformed.status).toBe(404);
    const anonymous = await call('GET', `/v1/jobs/${jobId}`);
    expect([anonymous.status, errorCode(anonymous.body)]).toEqual([401, 'AUTHENTICATION_REQUIRED']);
  });

  it("are refused for another organization's document, a missing one, and unknown body fields", async () => {
    const theirs = await createDoc(other.tokens.editor);
    for (const id of [theirs.id, crypto.randomUUID(), 'nope']) {
      const { status, body, message } = await enqueueExport(t.tokens.editor, id);
      expect([status, errorCode(body), message]).toEqual([404, 'NOT_FOUND', undefined]);
    }
    const doc = await createDoc(t.tokens.editor);
    const response = await call('POST', `/v1/documents/${doc.id}/exports`, {
      token: t.tokens.editor,
      body: { organization: other.id },
    });
    expect([response.status, errorCode(response.body)]).toEqual([400, 'VALIDATION_FAILED']);
    const empty = await call('POST', `/v1/documents/${doc.id}/exports`, { token: t.tokens.editor, body: {} });
    expect(empty.status).toBe(202);
  });

  it('are refused (403, audited as denied) to a service without exports:create', async () => {
    const doc = await createDoc(t.tokens.editor);
    const { status, body, message } = await enqueueExport(t.tokens.service, doc.id);
    expect([status, errorCode(body), message]).toEqual([403, 'INSUFFICIENT_PERMISSIONS', undefined]);
    // Audited as the job it would have created, which doesn't exist: resource `job`, id `*`.
    const denied = await adminSql()`select resource_type, resource_id from audit_events
      where organization_id = ${t.id} and action = 'exports.create' and outcome = 'denied' and actor_id = ${t.serviceKeyId}`;
    expect(denied).toContainEqual({ resource_type: 'job', resource_id: '*' });
    const jobs = await adminSql()`select count(*)::int as n from jobs where input->>'documentId' = ${doc.id}`;
    expect(jobs).toEqual([{ n: 0 }]);
  });
});
