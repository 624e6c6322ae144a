/**
 * "Services can't run without an actor", at compile time and at run time. The `@ts-expect-error` lines
 * are checked by `npm run typecheck`: if a service ever accepted a call without its context (and so
 * without an actor), the directive would be unused and type-checking would fail.
 */
import { env } from 'cloudflare:test';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Actor } from '../../src/actor/actor.ts';
import type { Context } from '../../src/context.ts';
import { openDatabase } from '../../src/db/client.ts';
import { createDocument, readDocument } from '../../src/services/documents.ts';
import { addMember } from '../../src/services/members.ts';
import { requestOrganizationDeletion } from '../../src/services/organization-deletion.ts';

// Never called: only type-checked.
function compileTimeChecks() {
  const db = openDatabase(env);
  const withoutActor = { requestId: 'r', env, db, waitUntil: () => {} };
  const undefinedActor = { actor: undefined, requestId: 'r', env, db, waitUntil: () => {} };
  const stringActor = { actor: 'owner', requestId: 'r', env, db, waitUntil: () => {} };
  // @ts-expect-error — no context at all
  void createDocument({ title: 'x', body: '', visibility: 'private' });
  // @ts-expect-error — a context without an actor
  void readDocument(withoutActor, 'id');
  // @ts-expect-error — an actor-less object where the actor should be
  void addMember(undefinedActor, { email: 'a@b.co', role: 'viewer' });
  // @ts-expect-error — a plain string is not an actor
  void requestOrganizationDeletion(stringActor, undefined);
}

describe('services need an actor', () => {
  it('take the context (and so the actor) as their first parameter', () => {
    expectTypeOf(createDocument).parameter(0).toEqualTypeOf<Context>();
    expectTypeOf<Context['actor']>().toEqualTypeOf<Actor>();
    expect(typeof compileTimeChecks).toBe('function');
  });

  it('refuse at run time a call from untyped code that carries no actor', async () => {
    const untyped = createDocument as unknown as (ctx: unknown, input: unknown) => Promise<unknown>;
    for (const ctx of [undefined, null, {}, { actor: null }, { actor: { type: 'user' } }, { actor: 'owner' }]) {
      await expect(untyped(ctx, { title: 'x', body: '', visibility: 'private' })).rejects.toThrow(TypeError);
    }
  });
});
