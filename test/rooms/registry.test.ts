/**
 * What a room knows of revocations it was not there to hear (an outside review): the organization's
 * registry (`OrgRooms`) remembers the revocations of the last hour and hands them to a room as it
 * registers, before the room admits anyone. A Worker whose revocation list is up to 30 s old may still
 * admit a revoked actor (SPEC: `TOKEN_REVOKED` within 60 s over HTTP); here that admission is made as
 * such a Worker makes it — the actor verified before the revocation, then `joinRoom` and `connectToRoom`
 * — and the room has the last word. And one document has one room, whatever the case of its id.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/context.ts';
import { openDatabase } from '../../src/db/client.ts';
import { resolveBearer } from '../../src/identity/resolve-bearer.ts';
import type { AdmittedActor } from '../../src/rooms/attachment.ts';
import { closeOrganizationRoomConnections, connectToRoom, joinRoom, revokeInRooms } from '../../src/services/rooms.ts';
import { devToken } from '../support/actors.ts';
import { adminSql } from '../support/database.ts';
import { call, executionContext } from '../support/http.ts';
import { connected, openRoom, withTimeout } from '../support/sockets.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';
import { eventually } from '../support/yjs-client.ts';

const registry = (organizationId: string) => env.ORG_ROOMS.get(env.ORG_ROOMS.idFromName(organizationId));

/** The tenant's editor removed, as an admin's `DELETE /v1/members/:userId` does. */
async function removeEditor(t: Tenant): Promise<void> {
  expect((await call('DELETE', `/v1/members/${t.userIds.editor}`, { token: t.tokens.owner })).status).toBe(204);
}

/** The removed editor added back, and a token exchanged for them since. */
async function readdEditor(t: Tenant): Promise<string> {
  const readded = await call('POST', '/v1/members', {
    token: t.tokens.owner,
    body: { email: t.emails.editor, role: 'editor' },
  });
  expect(readded.status).toBe(201);
  return devToken(t.emails.editor, t.slug);
}

/** The actor a Worker verified from `token` (its revocation list as of now). */
async function verified(token: string): Promise<AdmittedActor> {
  return (await resolveBearer(token, env, () => openDatabase(env))) as AdmittedActor;
}

/** A join made by a Worker that verified `actor` earlier and has heard of no revocation since. */
async function staleJoin(actor: AdmittedActor, documentId: string): Promise<number | string> {
  const ctx = createContext({ actor, env, exec: executionContext, db: openDatabase(env) });
  const admission = await joinRoom(ctx, { documentId, subprotocol: false });
  return connectToRoom(env, admission).then(
    (response) => {
      response.webSocket?.accept();
      response.webSocket?.close(1000);
      return response.status;
    },
    (error: { code?: string }) => error.code ?? String(error),
  );
}

describe("a room and the organization's revocations", () => {
  it('refuses a removed member in a room that had no connection when they were removed', async () => {
    const t = await createTenant();
    const quiet = await createDoc(t.tokens.owner, { body: 'nobody here' });
    const busy = await createDoc(t.tokens.owner, { body: 'someone here' });
    const witness = await connected(busy.id, t.tokens.viewer);
    const before = await verified(t.tokens.editor);
    await removeEditor(t);
    expect(await staleJoin(before, quiet.id)).toBe('TOKEN_REVOKED');
    // Refused after registering, the quiet room is delisted again: revocations no longer fan out to it.
    await eventually(async () => !(await registry(t.id).rooms()).includes(quiet.id));
    // The room that had a connection heard it too.
    expect(await staleJoin(before, busy.id)).toBe('TOKEN_REVOKED');
    // Re-added, the member's new token joins.
    const fresh = await connected(quiet.id, await readdEditor(t));
    fresh.ws.close(1000);
    witness.ws.close(1000);
  });

  it("draws the line at the revocation's database time: a retried push doesn't refuse a token exchanged since", async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    await removeEditor(t);
    const fresh = await readdEditor(t);
    const open = await connected(doc.id, fresh);
    // The removal's hook, retried after the member came back (a room of the fan-out failed the first
    // time): the same revocation, at its database time.
    const [row] = await adminSql()`select revoked_at from revocations
      where organization_id = ${t.id} and subject_type = 'user' and subject_id = ${t.userIds.editor}
      order by revoked_at desc limit 1`;
    const revokedAt = new Date((row as { revoked_at: string | Date }).revoked_at).getTime();
    await revokeInRooms(env, t.id, 'user', t.userIds.editor, revokedAt);
    // The socket of the token exchanged since stays open, and that token still joins.
    open.send({ type: 'publish', data: 'still here' });
    await open.next((f) => f.type === 'message' && f.data === 'still here');
    const joined = await connected(doc.id, fresh);
    joined.ws.close(1000);
    open.ws.close(1000);
  });

  it('keeps a quiet room listed when a refused join and an admitted one arrive together', async () => {
    const t = await createTenant();
    const before = await verified(t.tokens.editor);
    await removeEditor(t);
    for (let i = 0; i < 3; i++) {
      const quiet = await createDoc(t.tokens.owner);
      // Both wait on one registration; the refused one goes on first.
      const [refused, admitted] = await Promise.all([
        staleJoin(before, quiet.id),
        connected(quiet.id, t.tokens.viewer),
      ]);
      expect(refused).toBe('TOKEN_REVOKED');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await registry(t.id).rooms()).toContain(quiet.id);
      admitted.ws.close(1000);
    }
  });

  it("refuses an API key's service in a room that had none of its sockets when the key was revoked", async () => {
    const t = await createTenant();
    const quiet = await createDoc(t.tokens.owner);
    const before = await verified(t.tokens.service);
    expect((await call('DELETE', `/v1/api-keys/${t.serviceKeyId}`, { token: t.tokens.owner })).status).toBe(204);
    expect(await staleJoin(before, quiet.id)).toBe('TOKEN_REVOKED');
  });

  it('refuses every token issued before the organization closed, in any room', async () => {
    const t = await createTenant();
    const quiet = await createDoc(t.tokens.owner);
    const before = await verified(t.tokens.owner);
    await closeOrganizationRoomConnections(env, t.id, 'organization deleted', Date.now());
    expect(await staleJoin(before, quiet.id)).toBe('TOKEN_REVOKED');
  });

  it("closes without refusing when the organization's tokens are not revoked yet (the deletion request)", async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const before = await verified(t.tokens.owner);
    // What DELETE /v1/orgs/current does before it answers: should the workflow fail before revoking
    // anything, the organization's tokens still join, as they still work over HTTP.
    await closeOrganizationRoomConnections(env, t.id, 'organization deleted', null);
    expect(await staleJoin(before, doc.id)).toBe(101);
  });
});

describe('an organization deletion', () => {
  it('closes every socket before its request answers, and nothing sent after the answer is applied', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const [editor, viewer] = [await connected(doc.id, t.tokens.editor), await connected(doc.id, t.tokens.viewer)];
    expect((await call('DELETE', '/v1/orgs/current', { token: t.tokens.owner })).status).toBe(202);
    try {
      editor.send({ type: 'publish', data: 'after the answer' });
    } catch {
      // the close reached the client before the answer did
    }
    // Well within the workflow's own 2 s drain before its close-rooms step.
    const closes = await withTimeout(Promise.all([editor.closed, viewer.closed]), 1500, 'deletion close');
    expect(closes.map((c) => [c.code, c.reason])).toEqual([
      [4003, 'organization deleted'],
      [4003, 'organization deleted'],
    ]);
    expect(viewer.frames.filter((f) => f.type === 'message')).toEqual([]);
  });
});

describe("a document's room", () => {
  it('is one room whatever the case of the id, and the deletion closes every socket in it', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const lower = await connected(doc.id, t.tokens.editor);
    const upper = await connected(doc.id.toUpperCase(), t.tokens.viewer);
    // The second socket's welcome names the first: the same room.
    const welcome = upper.frames.find((f) => f.type === 'welcome')!;
    expect((welcome.peers as unknown[]).length).toBe(1);
    lower.send({ type: 'publish', data: 'to the room' });
    await upper.next((f) => f.type === 'message' && f.data === 'to the room');
    expect((await call('DELETE', `/v1/documents/${doc.id.toUpperCase()}`, { token: t.tokens.owner })).status).toBe(204);
    const closes = await withTimeout(Promise.all([lower.closed, upper.closed]), 2000, 'deletion close');
    expect(closes.map((c) => c.code)).toEqual([4003, 4003]);
    expect((await openRoom(doc.id.toUpperCase(), { token: t.tokens.viewer })).status).toBe(404);
  });
});
