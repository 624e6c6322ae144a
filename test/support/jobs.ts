/**
 * Background jobs under test: enqueue an export through the Worker with the queue producer capturing the
 * message (so the test decides when, how often and as which delivery it arrives), deliver messages to
 * the Worker's `queue` handler as the platform would, read a job's row and audit trail, and inject a
 * real database fault that refuses to record a job's success.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  type QueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import type { Env } from '../../src/env.ts';
import worker from '../../src/index.ts';
import type { JobMessage } from '../../src/messages.ts';
import { adminSql } from './database.ts';
import { BASE, call } from './http.ts';

export interface JobBody {
  job: {
    id: string;
    kind: string;
    status: string;
    documentId: string | null;
    result?: { title: string; body: string; version: number; exportedAt: string };
    expiresAt?: string;
    error?: { code: string };
    attempts: number;
    createdAt: string;
    updatedAt: string;
  };
}

/** `POST /v1/documents/:id/exports` through the Worker, the message captured instead of sent. */
export async function enqueueExport(
  token: string,
  documentId: string,
): Promise<{ status: number; body: unknown; message: JobMessage | undefined }> {
  const sent: JobMessage[] = [];
  const producer = {
    async send(body: JobMessage) {
      sent.push(structuredClone(body));
    },
    async sendBatch(messages: Iterable<MessageSendRequest<JobMessage>>) {
      for (const message of messages) sent.push(structuredClone(message.body));
    },
  } as unknown as Queue<JobMessage>;
  const exec = createExecutionContext();
  const request = new Request(`${BASE}/v1/documents/${documentId}/exports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], { ...env, JOBS: producer }, exec);
  await waitOnExecutionContext(exec);
  const body = await response.json();
  if (sent.length > 1) throw new Error(`expected at most one message, got ${sent.length}`);
  return { status: response.status, body, message: sent[0] };
}

/** Enqueues an export that must be accepted; returns the job id and its captured message. */
export async function acceptedExport(
  token: string,
  documentId: string,
): Promise<{ jobId: string; message: JobMessage }> {
  const { status, body, message } = await enqueueExport(token, documentId);
  if (status !== 202 || !message) throw new Error(`export not accepted: ${status} ${JSON.stringify(body)}`);
  return { jobId: (body as JobBody).job.id, message };
}

export interface Delivery {
  body: unknown;
  /** The platform's message id; the same for every delivery of one message. */
  id: string;
  /** This delivery's number, from 1. */
  attempts: number;
}

/**
 * Delivers a batch to the Worker's `queue` handler and returns what it acknowledged and retried. The
 * harness's `getQueueResult` reports retried message ids only, so the delay each `retry()` asked for
 * is recorded on the way (the call itself goes through unchanged).
 */
export async function deliver(messages: Delivery[], bindings: Env = env): Promise<QueueResult> {
  const batch = createMessageBatch(
    'signet-jobs',
    messages.map((m) => ({ ...m, timestamp: new Date() })),
  );
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    };
  }
  const exec = createExecutionContext();
  await worker.queue(batch, bindings, exec);
  const result = await getQueueResult(batch, exec);
  return {
    ...result,
    retryMessages: result.retryMessages.map((m) => ({ ...m, delaySeconds: m.delaySeconds ?? delays.get(m.msgId) })),
  };
}

export interface JobRow {
  status: string;
  attempts: number;
  error_code: string | null;
  result: unknown;
  expires_at: Date | string | null;
}

export async function jobRow(jobId: string): Promise<JobRow | undefined> {
  const rows = await adminSql()`select status, attempts, error_code, result, expires_at from jobs where id = ${jobId}`;
  return rows[0] as JobRow | undefined;
}

export interface EventRow {
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string;
  resource_type: string;
  resource_id: string;
}

/** Every audit event about `resourceId`, oldest first. */
export async function eventsAbout(resourceId: string): Promise<EventRow[]> {
  const rows = await adminSql()`select action, outcome, actor_type, actor_id, resource_type, resource_id
    from audit_events where resource_id = ${resourceId} order by at, action`;
  return rows as EventRow[];
}

/** `GET /v1/jobs/:id` until the job is finished, at most `timeoutMs`. */
export async function waitForJob(token: string, jobId: string, timeoutMs = 20_000): Promise<JobBody['job']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await call('GET', `/v1/jobs/${jobId}`, { token });
    if (status !== 200) throw new Error(`GET /v1/jobs/${jobId}: ${status} ${JSON.stringify(body)}`);
    const job = (body as JobBody).job;
    if (job.status === 'succeeded' || job.status === 'failed') return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A real database fault: while `jobId` is listed, the database refuses to mark that job succeeded (a
 * trigger; SECURITY DEFINER so it reads its table from the tenant session). Returns the switch.
 */
export async function jobSuccessFault(jobId: string): Promise<{ clear(): Promise<void> }> {
  const admin = adminSql();
  await admin`create table if not exists signet_test_job_faults (job_id uuid primary key)`;
  await admin`create or replace function signet_test_fail_job_success() returns trigger
    language plpgsql security definer set search_path = public as $$
    begin
      if exists (select 1 from signet_test_job_faults where job_id = new.id) then
        raise exception 'injected job fault';
      end if;
      return new;
    end $$`;
  const [trigger] = await admin`select 1 from pg_trigger where tgname = 'signet_test_fail_job_success'`;
  if (!trigger) {
    await admin`create trigger signet_test_fail_job_success before update on jobs for each row
      when (new.status = 'succeeded') execute function signet_test_fail_job_success()`;
  }
  await admin`insert into signet_test_job_faults values (${jobId}) on conflict do nothing`;
  return {
    async clear() {
      await admin`delete from signet_test_job_faults where job_id = ${jobId}`;
    },
  };
}
