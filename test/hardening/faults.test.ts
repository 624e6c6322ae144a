/**
 * Faults under load, on the real database: the fault proxy (scripts/lib/fault-proxy.ts) sits between
 * the Worker's driver and the Neon bridge and takes "the database" away mid-load, or loses a reply after
 * the write landed. Checked against what really landed (`adminSql`): every write and its audit event
 * are both present or both absent, a refused request is 503 `DATABASE_UNAVAILABLE`, service resumes by
 * itself, and a job whose consumer failed mid-run ends exactly once.
 *
 * The driver's endpoint is module-global (`neonConfig`, set by each `openDatabase` call), so every
 * request of this file goes to the Worker directly with `DATABASE_PROXY_URL` pointing at the proxy —
 * never through `SELF` — and the admin checks run only while no request is in flight.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Env } from '../../src/env.ts';
import worker from '../../src/index.ts';
import { adminSql, unique } from '../support/database.ts';
import { BASE, executionContext } from '../support/http.ts';
import { deliver, eventsAbout, jobRow } from '../support/jobs.ts';

declare module 'vitest' {
  interface ProvidedContext {
    faultProxyUrl: string;
  }
}

const proxy = inject('faultProxyUrl');
const proxied: Env = { ...env, DATABASE_PROXY_URL: proxy };

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  requestId: string;
}

async function api(method: string, path: string, token?: string, body?: unknown, bindings = proxied): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const request = new Request(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], bindings, executionContext);
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    requestId: response.headers.get('x-request-id') ?? '',
  };
}

async function ok(answer: Promise<Answer>, status = 200): Promise<Record<string, unknown>> {
  const { status: got, body } = await answer;
  if (got !== status) throw new Error(`expected ${status}, got ${got}: ${JSON.stringify(body)}`);
  return body!;
}

/** The proxy's one-shot faults (`ArmedFault` in scripts/lib/fault-proxy.ts, which is Node code). */
type ArmedFault = 'drop-reply' | 'stall-reply' | 'down-after';

async function fault(action: 'down' | 'stall' | 'up' | 'arm', armed?: { match: string; fault: ArmedFault }) {
  const response = await fetch(`${proxy}/__fault/${action}`, {
    method: 'POST',
    body: armed ? JSON.stringify(armed) : undefined,
  });
  if (!response.ok) throw new Error(`fault proxy ${action}: ${response.status}`);
}

async function proxyStats(): Promise<{ refused: number; dropped: number; forwarded: number; held: number }> {
  return (await fetch(`${proxy}/__fault/stats`)).json();
}

async function devToken(email: string, organization?: string): Promise<string> {
  const body = await ok(api('POST', '/v1/auth/token', undefined, { grant_type: 'dev', email, organization }));
  return body.access_token as string;
}

/** An organization with an editor, built through the proxy. */
async function organization(): Promise<{ id: string; editor: string; editorId: string }> {
  const slug = unique('fault').toLowerCase().slice(0, 40);
  const ownerEmail = `${unique('owner')}@example.com`;
  const editorEmail = `${unique('editor')}@example.com`;
  const created = await ok(api('POST', '/v1/orgs', await devToken(ownerEmail), { name: slug, slug }), 201);
  const owner = await devToken(ownerEmail, slug);
  const { member } = (await ok(api('POST', '/v1/members', owner, { email: editorEmail, role: 'editor' }), 201)) as {
    member: { userId: string };
  };
  return {
    id: (created.organization as { id: string }).id,
    editor: await devToken(editorEmail, slug),
    editorId: member.userId,
  };
}

interface DocumentState {
  id: string;
  version: number;
  body: string;
}

/** One write the load attempted: what it sent, what it got, and whether the database was down throughout. */
interface Attempt {
  kind: 'create' | 'update';
  marker: string;
  documentId?: string;
  status: number;
  code?: string;
  message?: string;
  requestId: string;
  /** The proxy was down from before the request started until after it ended. */
  wholeDown: boolean;
  /** The proxy was up from before the request started until after it ended, after the outage. */
  wholeRecovered: boolean;
}

/**
 * Checks what landed against every attempt: a created document exists exactly when its
 * `documents.create` event does (found by the request's id), an update's marker is in the body exactly
 * when its `documents.update` event exists, and each document's version counts its update events.
 */
async function expectNothingHalfApplied(organizationId: string, attempts: Attempt[]) {
  const sql = adminSql();
  const documents = (await sql`select id::text, title, body, version from documents
    where organization_id = ${organizationId}`) as { id: string; title: string; body: string; version: number }[];
  const events = (await sql`select action, resource_id, request_id from audit_events
    where organization_id = ${organizationId} and outcome = 'success'
      and action in ('documents.create', 'documents.update')`) as {
    action: string;
    resource_id: string;
    request_id: string;
  }[];
  const eventOf = new Map(events.map((e) => [e.request_id, e]));
  const byTitle = new Map(documents.map((d) => [d.title, d]));
  const byId = new Map(documents.map((d) => [d.id, d]));

  for (const attempt of attempts) {
    const event = eventOf.get(attempt.requestId);
    const landed =
      attempt.kind === 'create'
        ? byTitle.has(attempt.marker)
        : (byId.get(attempt.documentId!)?.body.includes(attempt.marker) ?? false);
    const what = `${attempt.kind} ${attempt.marker} answered ${attempt.status}`;
    expect(Boolean(event), `${what}: its audit event is there exactly when its change is`).toBe(landed);
    if (event && attempt.kind === 'create') expect(event.resource_id).toBe(byTitle.get(attempt.marker)!.id);
    if (event && attempt.kind === 'update') expect(event.resource_id).toBe(attempt.documentId);
    if (attempt.status === 200 || attempt.status === 201) expect(landed, what).toBe(true);
    if (attempt.wholeDown) expect(landed, `${what} while the database was down`).toBe(false);
  }
  // And nothing landed that no event records: one create event per document, one update event per version.
  const creates = events.filter((e) => e.action === 'documents.create').map((e) => e.resource_id);
  expect(creates.sort()).toEqual(documents.map((d) => d.id).sort());
  for (const document of documents) {
    const updates = events.filter((e) => e.action === 'documents.update' && e.resource_id === document.id);
    expect(updates.length, `updates of ${document.id}`).toBe(Number(document.version) - 1);
  }
}

describe('the database goes away in the middle of a write load', () => {
  const WRITERS = 8;
  let org: Awaited<ReturnType<typeof organization>>;
  let documents: DocumentState[];
  const attempts: Attempt[] = [];

  beforeAll(async () => {
    await fault('up');
    org = await organization();
    documents = [];
    for (let i = 0; i < WRITERS; i++) {
      const body = await ok(api('POST', '/v1/documents', org.editor, { title: `writer ${i}`, body: '' }), 201);
      const document = body.document as { id: string; version: number };
      documents.push({ id: document.id, version: document.version, body: '' });
    }
  });

  /** A write as one of the load's writers: alternately a create and an update of the writer's own document. */
  async function write(
    writer: number,
    n: number,
    state: () => { down: boolean; recovered: boolean; epoch: number },
    bindings = proxied,
  ) {
    const before = state();
    const marker = `[${writer}.${n}.${crypto.randomUUID().slice(0, 8)}]`;
    const document = documents[writer]!;
    let answer: Answer;
    let attempt: Pick<Attempt, 'kind' | 'marker' | 'documentId'>;
    if (n % 2 === 0) {
      attempt = { kind: 'create', marker };
      answer = await api('POST', '/v1/documents', org.editor, { title: marker, body: 'created under load' }, bindings);
    } else {
      attempt = { kind: 'update', marker, documentId: document.id };
      const body = `${document.body}${marker}`;
      answer = await api(
        'PATCH',
        `/v1/documents/${document.id}`,
        org.editor,
        { body, version: document.version },
        bindings,
      );
      if (answer.status === 200) {
        const updated = answer.body!.document as { version: number; body: string };
        Object.assign(document, { version: updated.version, body: updated.body });
      }
    }
    const after = state();
    const error = answer.body?.error as { code?: string; message?: string } | undefined;
    attempts.push({
      ...attempt,
      status: answer.status,
      code: error?.code,
      message: error?.message,
      requestId: answer.requestId,
      wholeDown: before.down && after.down && before.epoch === after.epoch,
      wholeRecovered: before.recovered && after.recovered && before.epoch === after.epoch,
    });
  }

  it('answers 503 DATABASE_UNAVAILABLE while it is down, half-applies nothing, and resumes by itself', async () => {
    // The load runs in three stretches counted in finished writes, never in time: up, down, up again.
    const PER_STAGE = 32;
    let finished = 0;
    let stage: 'before' | 'down' | 'recovered' = 'before';
    let epoch = 0;
    let switching: Promise<void> | undefined;
    const state = () => ({ down: stage === 'down', recovered: stage === 'recovered', epoch });
    const advance = () => {
      finished += 1;
      if (switching) return;
      if (stage === 'before' && finished >= PER_STAGE) {
        epoch += 1; // requests in flight during the switch count as neither stretch
        switching = fault('down').then(() => {
          stage = 'down';
          epoch += 1;
          switching = undefined;
        });
      } else if (stage === 'down' && finished >= 2 * PER_STAGE) {
        epoch += 1;
        switching = fault('up').then(() => {
          stage = 'recovered';
          epoch += 1;
          switching = undefined;
        });
      }
    };
    await Promise.all(
      documents.map(async (_, writer) => {
        for (let n = 0; stage !== 'recovered' || finished < 3 * PER_STAGE; n++) {
          await write(writer, n, state);
          advance();
          await switching;
        }
      }),
    );
    await fault('up');

    // Every answer is a success or a 503 DATABASE_UNAVAILABLE: never a 500, never a hang.
    for (const attempt of attempts) {
      expect([200, 201, 503], JSON.stringify(attempt)).toContain(attempt.status);
      if (attempt.status === 503) expect(attempt.code).toBe('DATABASE_UNAVAILABLE');
    }
    const down = attempts.filter((a) => a.wholeDown);
    expect(down.length).toBeGreaterThan(0);
    expect(down.every((a) => a.status === 503)).toBe(true);
    expect((await proxyStats()).refused).toBeGreaterThan(0);
    // Once it is back, with no restart and nothing reset, every write succeeds again.
    const recovered = attempts.filter((a) => a.wholeRecovered);
    expect(recovered.length).toBeGreaterThanOrEqual(WRITERS);
    expect(recovered.filter((a) => a.status >= 300)).toEqual([]);

    await expectNothingHalfApplied(org.id, attempts);
  });

  it('loses replies after the writes landed: 503 to the client, the change and its event both present', async () => {
    const before = (await proxyStats()).dropped;
    const LOST = 3;
    for (let i = 0; i < LOST; i++) await fault('arm', { match: 'insert into audit_events', fault: 'drop-reply' });
    const state = () => ({ down: false, recovered: false, epoch: 0 });
    const start = attempts.length;
    await Promise.all(
      documents.map(async (_, writer) => {
        for (let n = 0; n < 4; n++) {
          await write(writer, 1000 + n, state);
          // A lost update reply leaves the writer's version stale: reload it, as a client would after a 503.
          const current = await ok(api('GET', `/v1/documents/${documents[writer]!.id}`, org.editor));
          const document = current.document as { version: number; body: string };
          Object.assign(documents[writer]!, { version: document.version, body: document.body });
        }
      }),
    );
    await fault('up');
    const lost = attempts.slice(start).filter((a) => a.status === 503);
    expect((await proxyStats()).dropped - before).toBe(LOST);
    expect(lost).toHaveLength(LOST);
    expect(lost.every((a) => a.code === 'DATABASE_UNAVAILABLE')).toBe(true);
    await expectNothingHalfApplied(org.id, attempts);
    // Those lost replies' writes did land (both halves), as the proxy forwarded them before dropping.
    const sql = adminSql();
    const landed = await sql`select count(*)::int as n from audit_events
      where request_id = any(${lost.map((a) => a.requestId)})`;
    expect((landed[0] as { n: number }).n).toBe(LOST);
  });

  it('stops answering: every write gives up after DATABASE_TIMEOUT_MS with 503, and writes nothing it was not sent', async () => {
    // Without a bound on the wait these requests would hang for as long as the database stays silent.
    const impatient: Env = { ...proxied, DATABASE_TIMEOUT_MS: '750' };
    const held = (await proxyStats()).held;
    await fault('stall');
    const silent = () => ({ down: true, recovered: false, epoch: 0 });
    const start = attempts.length;
    await Promise.all(
      documents.map(async (_, writer) => {
        for (let n = 0; n < 2; n++) await write(writer, 2000 + n, silent, impatient);
      }),
    );
    const stalled = attempts.slice(start);
    const gaveUp = [503, 'DATABASE_UNAVAILABLE', 'The database did not answer in time.'];
    expect(stalled.map((a) => [a.status, a.code, a.message])).toEqual(stalled.map(() => gaveUp));
    expect((await proxyStats()).held - held).toBe(2 * WRITERS);
    await fault('up'); // the held requests are dropped unforwarded: none of them can land now

    // The answer to a write that did reach the database never comes: 503 too, and the write is there, whole.
    await fault('arm', { match: 'insert into audit_events', fault: 'stall-reply' });
    const answered = () => ({ down: false, recovered: false, epoch: 0 });
    await write(0, 2100, answered, impatient);
    const unanswered = attempts.at(-1)!;
    expect([unanswered.status, unanswered.code, unanswered.message]).toEqual(gaveUp);
    await fault('up');
    await expectNothingHalfApplied(org.id, attempts);
    const landed =
      await adminSql()`select count(*)::int as n from audit_events where request_id = ${unanswered.requestId}`;
    expect((landed[0] as { n: number }).n).toBe(1);

    // And the next write, with the database answering again, succeeds.
    await write(1, 2200, answered);
    expect(attempts.at(-1)!.status).toBe(201);
  });
});

describe('a queue consumer that fails mid-job', () => {
  let org: Awaited<ReturnType<typeof organization>>;
  beforeAll(async () => {
    await fault('up');
    org = await organization();
  });

  /** `POST /v1/documents/:id/exports` through the proxy, the queue message captured instead of sent. */
  async function enqueue(): Promise<{ jobId: string; message: unknown }> {
    const created = await ok(api('POST', '/v1/documents', org.editor, { title: 'Exported', body: 'x' }), 201);
    const sent: unknown[] = [];
    const producer = { send: async (body: unknown) => void sent.push(structuredClone(body)) };
    const bindings = { ...proxied, JOBS: producer as unknown as Env['JOBS'] };
    const request = new Request(`${BASE}/v1/documents/${(created.document as { id: string }).id}/exports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.editor}` },
    });
    const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], bindings, executionContext);
    const body = (await response.json()) as { job: { id: string } };
    expect([response.status, sent.length]).toEqual([202, 1]);
    return { jobId: body.job.id, message: sent[0] };
  }

  const runs = async (jobId: string) => (await eventsAbout(jobId)).filter((e) => e.action === 'exports.run');

  it('loses the database right after claiming the job: retried, taken over after the lease, run once', async () => {
    const { jobId, message } = await enqueue();
    // The claim is answered, then the database is gone: the run fails, and so does handing the job back.
    await fault('arm', { match: "set status = 'running'", fault: 'down-after' });
    const failed = await deliver([{ id: 'mid-1', attempts: 1, body: message }], proxied);
    await fault('up');
    expect(failed).toMatchObject({ explicitAcks: [], retryMessages: [{ msgId: 'mid-1', delaySeconds: 10 }] });
    expect(await jobRow(jobId)).toMatchObject({ status: 'running', attempts: 1, result: null });
    expect(await runs(jobId)).toEqual([]);

    // The next delivery finds it still leased to the failed run and leaves it…
    const busy = await deliver([{ id: 'mid-1', attempts: 2, body: message }], proxied);
    expect(busy.retryMessages).toEqual([expect.objectContaining({ msgId: 'mid-1' })]);
    expect(await jobRow(jobId)).toMatchObject({ status: 'running', attempts: 1 });

    // …until the lease has passed (its clock moved back rather than waited for), then takes it over.
    await adminSql()`update jobs set updated_at = now() - interval '2 minutes' where id = ${jobId}`;
    const takeover = await deliver([{ id: 'mid-1', attempts: 3, body: message }], proxied);
    expect(takeover).toMatchObject({ explicitAcks: ['mid-1'], retryMessages: [] });
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await runs(jobId)).toEqual([expect.objectContaining({ outcome: 'success', actor_id: org.editorId })]);

    // A stray redelivery changes nothing.
    const stray = await deliver([{ id: 'mid-1', attempts: 4, body: message }], proxied);
    expect(stray.explicitAcks).toEqual(['mid-1']);
    expect(await runs(jobId)).toHaveLength(1);
  });

  it('loses the reply of the run that finished the job: the redelivery finds it done, one run recorded', async () => {
    const { jobId, message } = await enqueue();
    await fault('arm', { match: "set status = 'succeeded'", fault: 'drop-reply' });
    const first = await deliver([{ id: 'lost-1', attempts: 1, body: message }], proxied);
    await fault('up');
    // The consumer saw the database fail and asked for a retry, but the success had landed, with its event.
    expect(first).toMatchObject({ explicitAcks: [], retryMessages: [{ msgId: 'lost-1', delaySeconds: 10 }] });
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await runs(jobId)).toEqual([expect.objectContaining({ outcome: 'success' })]);

    const again = await deliver([{ id: 'lost-1', attempts: 2, body: message }], proxied);
    expect(again).toMatchObject({ explicitAcks: ['lost-1'], retryMessages: [] });
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await runs(jobId)).toHaveLength(1);
  });
});
