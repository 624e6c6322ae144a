import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../src/actor/actor.ts';
import { type Context, currentContext, runInContext } from '../src/context.ts';
import { openDatabase } from '../src/db/client.ts';
import { aService, aUser, devToken } from './support/actors.ts';
import { call } from './support/http.ts';

function contextFor(actor: Actor): Context {
  return { actor, requestId: crypto.randomUUID(), env, db: openDatabase(env), waitUntil: () => {} };
}

/** Code deep in a call stack that has no parameter for the context. */
async function deepInTheStack(hops: number): Promise<Actor> {
  if (hops === 0) return currentContext().actor;
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
  return deepInTheStack(hops - 1);
}

describe('the per-operation context', () => {
  it("is readable deep in the call stack, and concurrent operations never see each other's actor", async () => {
    const actors = Array.from({ length: 20 }, (_, i) => (i % 2 ? aUser() : aService()));
    const seen = await Promise.all(actors.map((actor) => runInContext(contextFor(actor), () => deepInTheStack(5))));
    expect(seen).toEqual(actors);
    for (const [i, actor] of seen.entries()) expect(actor).toBe(actors[i]);
  });

  it('does not exist outside an operation', () => {
    expect(() => currentContext()).toThrow(/outside of an operation/);
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
