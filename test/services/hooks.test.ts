/**
 * After-action hooks (Ash's `after_action`): they run once the change has committed, with the very
 * actor and request id of the mutation; a failing hook is retried, then reported — never dropped.
 */
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Context } from '../../src/context.ts';
import { openDatabase } from '../../src/db/client.ts';
import { defineAction, HOOK_WAIT_MS } from '../../src/services/action.ts';
import { createDocument } from '../../src/services/documents.ts';
import type { TenantContext } from '../../src/services/tenant.ts';
import { aUser } from '../support/actors.ts';
import { adminSql } from '../support/database.ts';
import { createTenant } from '../support/tenants.ts';

function contextFor(actor: Context['actor'], pending: Promise<unknown>[]): Context {
  return { actor, requestId: crypto.randomUUID(), env, db: openDatabase(env), waitUntil: (p) => pending.push(p) };
}

describe('after-action hooks', () => {
  afterEach(() => vi.restoreAllMocks());

  it('receive the actor and request id of the mutation that triggered them, after it committed', async () => {
    const t = await createTenant();
    const actor = aUser({ id: t.userIds.editor, organizationId: t.id, role: 'editor' });
    const seen: { actor: unknown; requestId: string; committed: boolean }[] = [];
    const create = defineAction({
      ...createDocument.definition,
      after: [
        async (hookCtx: TenantContext, _input, result) => {
          const rows = await adminSql()`select id from documents where id = ${result.id}`;
          seen.push({ actor: hookCtx.actor, requestId: hookCtx.requestId, committed: rows.length === 1 });
        },
      ],
    });
    const pending: Promise<unknown>[] = [];
    const ctx = contextFor(actor, pending);
    await create(ctx, { title: 'Hooked', body: '', visibility: 'private' });
    await Promise.all(pending);
    expect(seen).toEqual([{ actor, requestId: ctx.requestId, committed: true }]);
  });

  it('hold the answer until they finish, so what they push (room revocations) is in force when it comes', async () => {
    const t = await createTenant();
    const actor = aUser({ id: t.userIds.editor, organizationId: t.id, role: 'editor' });
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let hookDone = false;
    const create = defineAction({
      ...createDocument.definition,
      after: [
        async function pushRevocation() {
          await gate;
          hookDone = true;
        },
      ],
    });
    let answered = false;
    const answer = create(contextFor(actor, []), { title: 'Held', body: '', visibility: 'private' }).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, HOOK_WAIT_MS / 3));
    expect(answered).toBe(false);
    finish();
    await answer;
    expect(hookDone).toBe(true);
  });

  it(`answer after ${HOOK_WAIT_MS} ms when a hook is stuck, and leave it running after the response`, async () => {
    const t = await createTenant();
    const actor = aUser({ id: t.userIds.editor, organizationId: t.id, role: 'editor' });
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const create = defineAction({ ...createDocument.definition, after: [() => gate] });
    const pending: Promise<unknown>[] = [];
    const started = Date.now();
    await create(contextFor(actor, pending), { title: 'Stuck', body: '', visibility: 'private' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(HOOK_WAIT_MS - 50);
    expect(pending).toHaveLength(1);
    finish();
    await Promise.all(pending);
  });

  it('do not run when the action fails', async () => {
    const t = await createTenant();
    const hook = vi.fn(async () => {});
    const create = defineAction({ ...createDocument.definition, after: [hook] });
    const pending: Promise<unknown>[] = [];
    const viewer = aUser({ id: t.userIds.viewer, organizationId: t.id, role: 'viewer' });
    await expect(
      create(contextFor(viewer, pending), { title: 'x', body: '', visibility: 'private' }),
    ).rejects.toMatchObject({
      code: 'INSUFFICIENT_PERMISSIONS',
    });
    await Promise.all(pending);
    expect(hook).not.toHaveBeenCalled();
  });

  it('are retried when they fail, and reported when they keep failing', async () => {
    const t = await createTenant();
    const actor = aUser({ id: t.userIds.editor, organizationId: t.id, role: 'editor' });
    let flakyCalls = 0;
    const flaky = async () => {
      flakyCalls += 1;
      if (flakyCalls < 2) throw new Error('transient');
    };
    let brokenCalls = 0;
    const broken = async function notifyPartner() {
      brokenCalls += 1;
      throw new TypeError('always');
    };
    const errors = vi.spyOn(console, 'error');
    const create = defineAction({ ...createDocument.definition, after: [flaky, broken] });
    const pending: Promise<unknown>[] = [];
    const ctx = contextFor(actor, pending);
    await create(ctx, { title: 'Hooked', body: '', visibility: 'private' });
    await Promise.all(pending);
    expect(flakyCalls).toBe(2);
    expect(brokenCalls).toBe(3);
    const reports = errors.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(reports).toContainEqual(
      expect.objectContaining({
        msg: 'after-action hook notifyPartner failed',
        action: 'documents.create',
        requestId: ctx.requestId,
        actor: { type: 'user', id: t.userIds.editor },
        error: 'TypeError',
      }),
    );
  }, 20_000);
});
