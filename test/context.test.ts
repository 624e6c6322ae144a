import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Actor, principalOf } from '../src/actor/actor.ts';
import { type Context, createContext, runInContext } from '../src/context.ts';
import { openDatabase } from '../src/db/client.ts';
import { log } from '../src/observability/log.ts';
import { aService, aUser, devToken } from './support/actors.ts';
import { call } from './support/http.ts';

const exec = { waitUntil: () => {} };

function contextFor(actor: Actor): Context {
  return createContext({ actor, env, exec });
}

/** Code deep in a call stack that has no parameter for the context, and logs. */
async function deepInTheStack(hops: number, marker: string): Promise<void> {
  if (hops === 0) return log({ level: 'info', msg: marker });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
  return deepInTheStack(hops - 1, marker);
}

function lines(spy: { mock: { calls: unknown[][] } }): Record<string, unknown>[] {
  return spy.mock.calls.flatMap((args) => {
    try {
      return [JSON.parse(String(args[0])) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('the per-operation context', () => {
  afterEach(() => vi.restoreAllMocks());

  it("names the operation on every log line deep in the call stack, and concurrent operations never see each other's", async () => {
    const info = vi.spyOn(console, 'log').mockImplementation(() => {});
    const marker = `deep-${crypto.randomUUID()}`;
    const contexts = Array.from({ length: 20 }, (_, i) => contextFor(i % 2 ? aUser() : aService()));
    await Promise.all(contexts.map((ctx) => runInContext(ctx, () => deepInTheStack(5, marker))));
    const logged = lines(info).filter((l) => l.msg === marker);
    expect(logged).toHaveLength(contexts.length);
    for (const ctx of contexts) {
      expect(logged.filter((l) => l.requestId === ctx.requestId)).toEqual([
        expect.objectContaining({
          actor: principalOf(ctx.actor),
          organizationId: (ctx.actor as { organizationId: string }).organizationId,
        }),
      ]);
    }
  });

  it('adds nothing outside an operation, and a field the caller passes wins', async () => {
    const info = vi.spyOn(console, 'log').mockImplementation(() => {});
    log({ level: 'info', msg: 'outside' });
    const ctx = contextFor(aUser());
    runInContext(ctx, () => log({ level: 'info', msg: 'inside', organizationId: null }));
    const [outside, inside] = lines(info);
    expect(outside).not.toHaveProperty('requestId');
    expect(outside).not.toHaveProperty('actor');
    expect(inside).toMatchObject({ requestId: ctx.requestId, actor: principalOf(ctx.actor), organizationId: null });
  });

  it('opens the database on first use only, once', () => {
    let opened = 0;
    const ctx = createContext({
      actor: aUser(),
      env,
      exec,
      db: () => {
        opened++;
        return openDatabase(env);
      },
    });
    expect(opened).toBe(0);
    expect(ctx.db).toBe(ctx.db);
    expect(opened).toBe(1);
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives concurrent HTTP requests their own actors', async () => {
    const emails = Array.from({ length: 8 }, (_, i) => `concurrent${i}-${crypto.randomUUID()}@example.com`);
    const tokens = await Promise.all(emails.map((email) => devToken(email)));
    const responses = await Promise.all(tokens.map((token) => call('GET', '/v1/me', { token })));
    const ids = responses.map((r) => (r.body as { actor: { id: string } }).actor.id);
    expect(new Set(ids).size).toBe(8);
    // Each token's own subject: the id in the token's payload.
    tokens.forEach((token, i) => {
      const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
      expect(ids[i]).toBe(payload.sub);
    });
  });
});
