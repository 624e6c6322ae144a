/**
 * The jobs consumer, delivery by delivery (the Worker's `queue` handler invoked directly, so the test
 * decides when and how often a message arrives): the actor rebuilt at run time, nothing lost and
 * nothing twice, retries with backoff on real database faults, and the dead-letter hand-off.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { MAX_DELIVERIES } from '../../src/jobs/retry-policy.ts';
import { adminSql } from '../support/database.ts';
import { call } from '../support/http.ts';
import { acceptedExport, deliver, eventsAbout, type JobBody, jobRow, jobSuccessFault } from '../support/jobs.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

const runs = async (jobId: string) => (await eventsAbout(jobId)).filter((e) => e.action === 'exports.run');

describe('the jobs consumer', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant(['documents:read', 'exports:create']);
  });

  describe('rebuilds the actor when the job runs', () => {
    it('fails the job of a member removed between enqueue and run, on the job and in the audit', async () => {
      const removed = await createTenant();
      const doc = await createDoc(removed.tokens.editor);
      const { jobId, message } = await acceptedExport(removed.tokens.editor, doc.id);
      const removal = await call('DELETE', `/v1/members/${removed.userIds.editor}`, { token: removed.tokens.owner });
      expect(removal.status).toBe(204);

      const result = await deliver([{ id: 'removed-1', attempts: 1, body: message }]);
      // Permanent: acknowledged at once, never retried.
      expect(result).toMatchObject({ explicitAcks: ['removed-1'], retryMessages: [] });
      expect(await jobRow(jobId)).toMatchObject({
        status: 'failed',
        error_code: 'INSUFFICIENT_PERMISSIONS',
        result: null,
      });
      expect(await runs(jobId)).toEqual([
        expect.objectContaining({ outcome: 'denied', actor_type: 'user', actor_id: removed.userIds.editor }),
      ]);
      const { body } = await call('GET', `/v1/jobs/${jobId}`, { token: removed.tokens.owner });
      expect((body as JobBody).job).toMatchObject({ status: 'failed', error: { code: 'INSUFFICIENT_PERMISSIONS' } });
      expect((body as JobBody).job).not.toHaveProperty('result');
    });

    it('fails the job of an API key revoked between enqueue and run', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.service, doc.id);
      expect(message.actor).toEqual({ type: 'service', id: t.serviceKeyId, organizationId: t.id });
      await call('DELETE', `/v1/api-keys/${t.serviceKeyId}`, { token: t.tokens.owner });

      const result = await deliver([{ id: 'revoked-1', attempts: 1, body: message }]);
      expect(result.explicitAcks).toEqual(['revoked-1']);
      expect(await jobRow(jobId)).toMatchObject({ status: 'failed', error_code: 'INSUFFICIENT_PERMISSIONS' });
      expect(await runs(jobId)).toEqual([
        expect.objectContaining({ outcome: 'denied', actor_type: 'service', actor_id: t.serviceKeyId }),
      ]);
    });

    it("fails a service's job once the admin who created its key is removed (scopes capped by the creator now)", async () => {
      const org = await createTenant();
      const created = await call('POST', '/v1/api-keys', {
        token: org.tokens.admin,
        body: { name: 'exporter', scopes: ['documents:read', 'exports:create'] },
      });
      const { secret } = created.body as { secret: string };
      const exchanged = await call('POST', '/v1/auth/token', { body: { grant_type: 'api_key', api_key: secret } });
      const serviceToken = (exchanged.body as { access_token: string }).access_token;
      const doc = await createDoc(org.tokens.editor);
      const { jobId, message } = await acceptedExport(serviceToken, doc.id);
      await call('DELETE', `/v1/members/${org.userIds.admin}`, { token: org.tokens.owner });

      await deliver([{ id: 'creator-removed-1', attempts: 1, body: message }]);
      expect(await jobRow(jobId)).toMatchObject({ status: 'failed', error_code: 'INSUFFICIENT_PERMISSIONS' });
    });

    it('fails the job at once when its document was deleted meanwhile', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      await call('DELETE', `/v1/documents/${doc.id}`, { token: t.tokens.admin });

      const result = await deliver([{ id: 'deleted-1', attempts: 1, body: message }]);
      expect(result).toMatchObject({ explicitAcks: ['deleted-1'], retryMessages: [] });
      expect(await jobRow(jobId)).toMatchObject({ status: 'failed', error_code: 'NOT_FOUND' });
      expect(await runs(jobId)).toEqual([expect.objectContaining({ outcome: 'failure' })]);
    });

    it("runs no job from a reference that isn't the job's creator", async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      const forged = { ...message, actor: { ...message.actor, id: t.userIds.owner } };

      const result = await deliver([{ id: 'forged-1', attempts: 1, body: forged }]);
      expect(result.explicitAcks).toEqual(['forged-1']);
      expect(await jobRow(jobId)).toMatchObject({ status: 'queued', attempts: 0 });
      await deliver([{ id: 'genuine-1', attempts: 1, body: message }]);
      expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    });

    it('acknowledges a malformed message without running anything', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      const result = await deliver([
        { id: 'bad-1', attempts: 1, body: { kind: 'export', jobId } },
        { id: 'bad-2', attempts: 1, body: { ...message, token: 'eyJ…' } },
        { id: 'bad-3', attempts: 1, body: 'export' },
      ]);
      expect(result.explicitAcks.sort()).toEqual(['bad-1', 'bad-2', 'bad-3']);
      expect(await jobRow(jobId)).toMatchObject({ status: 'queued', attempts: 0 });
    });
  });

  describe('runs a job once, whatever the deliveries', () => {
    it('ignores a duplicate delivery of a finished job', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      const first = await deliver([{ id: 'dup-1', attempts: 1, body: message }]);
      const second = await deliver([{ id: 'dup-1', attempts: 1, body: message }]);
      expect([first.explicitAcks, second.explicitAcks]).toEqual([['dup-1'], ['dup-1']]);
      const row = await jobRow(jobId);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await runs(jobId)).toHaveLength(1);
      // The duplicate didn't rewrite the result either.
      const again = await deliver([{ id: 'dup-1', attempts: 2, body: message }]);
      expect(again.explicitAcks).toEqual(['dup-1']);
      expect((await jobRow(jobId))?.result).toEqual(row?.result);
    });

    it('runs it once when the same message is delivered twice at the same time', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      const results = await Promise.all([
        deliver([{ id: 'race-1', attempts: 1, body: message }]),
        deliver([{ id: 'race-1', attempts: 1, body: message }]),
      ]);
      // Each delivery was either acknowledged (it ran the job, or found it finished) or retried (it found
      // it running); never both dropped.
      const acked = results.filter((r) => r.explicitAcks.includes('race-1')).length;
      const retried = results.filter((r) => r.retryMessages.some((m) => m.msgId === 'race-1')).length;
      expect(acked).toBeGreaterThanOrEqual(1);
      expect(acked + retried).toBe(2);
      expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await runs(jobId)).toHaveLength(1);
    });

    it('leaves a job that another worker is running to it, and takes over one abandoned past its lease', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      const admin = adminSql();
      await admin`update jobs set status = 'running', attempts = 1, updated_at = now() where id = ${jobId}`;
      const busy = await deliver([{ id: 'lease-1', attempts: 1, body: message }]);
      expect(busy).toMatchObject({ explicitAcks: [], retryMessages: [{ msgId: 'lease-1', delaySeconds: 10 }] });
      expect(await jobRow(jobId)).toMatchObject({ status: 'running', attempts: 1 });

      await admin`update jobs set updated_at = now() - interval '2 minutes' where id = ${jobId}`;
      const takeover = await deliver([{ id: 'lease-1', attempts: 2, body: message }]);
      expect(takeover.explicitAcks).toEqual(['lease-1']);
      expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(await runs(jobId)).toHaveLength(1);
    });
  });

  describe('retries transient failures', () => {
    it('retries with backoff after a database fault, then succeeds', async () => {
      const doc = await createDoc(t.tokens.editor, { title: 'Retried' });
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      const fault = await jobSuccessFault(jobId);
      try {
        const failed = await deliver([{ id: 'transient-1', attempts: 1, body: message }]);
        expect(failed).toMatchObject({ explicitAcks: [], retryMessages: [{ msgId: 'transient-1', delaySeconds: 10 }] });
        // Back to queued for the next delivery; no run recorded, no result.
        expect(await jobRow(jobId)).toMatchObject({ status: 'queued', attempts: 1, result: null });
        expect(await runs(jobId)).toEqual([]);
      } finally {
        await fault.clear();
      }
      const retried = await deliver([{ id: 'transient-1', attempts: 2, body: message }]);
      expect(retried).toMatchObject({ explicitAcks: ['transient-1'], retryMessages: [] });
      expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 2, result: { title: 'Retried' } });
      expect(await runs(jobId)).toEqual([expect.objectContaining({ outcome: 'success' })]);
    });

    it('retries when the database cannot be reached, leaving the job untouched', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      try {
        const unreachable = { ...env, DATABASE_PROXY_URL: 'http://127.0.0.1:9' };
        const result = await deliver([{ id: 'down-1', attempts: 2, body: message }], unreachable);
        expect(result).toMatchObject({ explicitAcks: [], retryMessages: [{ msgId: 'down-1', delaySeconds: 30 }] });
      } finally {
        openDatabase(env); // the driver's endpoint is module-global: point it back at the bridge
      }
      expect(await jobRow(jobId)).toMatchObject({ status: 'queued', attempts: 0 });
    });

    it('fails the job with a code on the last delivery and hands the message to the dead-letter queue', async () => {
      const doc = await createDoc(t.tokens.editor);
      const { jobId, message } = await acceptedExport(t.tokens.editor, doc.id);
      const fault = await jobSuccessFault(jobId);
      try {
        const delays: (number | undefined)[] = [];
        for (let attempts = 1; attempts < MAX_DELIVERIES; attempts++) {
          const result = await deliver([{ id: 'doomed-1', attempts, body: message }]);
          expect(result.explicitAcks).toEqual([]);
          delays.push(result.retryMessages[0]?.delaySeconds);
          expect(await jobRow(jobId)).toMatchObject({ status: 'queued', attempts });
        }
        expect(delays).toEqual([10, 30, 90]);
        // The last delivery: recorded as failed, and retried once more — with no retries left, the
        // platform moves the message to the dead-letter queue instead of dropping it.
        const last = await deliver([{ id: 'doomed-1', attempts: MAX_DELIVERIES, body: message }]);
        expect(last.explicitAcks).toEqual([]);
        expect(last.retryMessages).toEqual([expect.objectContaining({ msgId: 'doomed-1' })]);
        expect(await jobRow(jobId)).toMatchObject({ status: 'failed', error_code: 'INTERNAL_ERROR', attempts: 4 });
        expect(await runs(jobId)).toEqual([
          expect.objectContaining({ outcome: 'failure', actor_id: t.userIds.editor }),
        ]);
        const { body } = await call('GET', `/v1/jobs/${jobId}`, { token: t.tokens.editor });
        expect((body as JobBody).job).toMatchObject({ status: 'failed', error: { code: 'INTERNAL_ERROR' } });
      } finally {
        await fault.clear();
      }
      // A stray redelivery after that changes nothing.
      const stray = await deliver([{ id: 'doomed-1', attempts: 1, body: message }]);
      expect(stray.explicitAcks).toEqual(['doomed-1']);
      expect(await jobRow(jobId)).toMatchObject({ status: 'failed', attempts: 4 });
    });
  });
});
