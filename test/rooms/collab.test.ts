/**
 * Collaborative documents (SPEC §4.1), driven by stock Yjs peers (y-protocols' own sync and awareness
 * code, test/support/yjs-client.ts) over real room sockets: sync on join, per-frame write authorization,
 * server-stamped awareness, durability across hibernation and eviction, the save to Postgres with its
 * audit events, PATCH ↔ room edits without a lost edit, revocation mid-edit and the limits.
 */
import { env, evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import * as encoding from 'lib0/encoding';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { openDatabase } from '../../src/db/client.ts';
import { NotFound } from '../../src/errors.ts';
import { resolveBearer } from '../../src/identity/resolve-bearer.ts';
import type { AdmittedActor } from '../../src/rooms/attachment.ts';
import type { DocumentRoom } from '../../src/rooms/room.ts';
import { connectToRoom } from '../../src/services/rooms.ts';
import { call } from '../support/http.ts';
import { connected, type RoomClient, withTimeout } from '../support/sockets.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';
import { eventually, type YjsPeer, yjsPeer } from '../support/yjs-client.ts';

const room = (id: string) => env.ROOMS.get(env.ROOMS.idFromName(id)) as DurableObjectStub<DocumentRoom>;

interface DocumentBody {
  document: { body: string; version: number };
}

const open: { client: RoomClient; peer?: YjsPeer }[] = [];

async function join(documentId: string, token: string, options: { send?: boolean } = {}) {
  const client = await connected(documentId, token);
  const peer = yjsPeer(client, options);
  open.push({ client, peer });
  await withTimeout(peer.synced, 5000, 'sync step 2');
  return { client, peer };
}

async function readDocument(t: Tenant, id: string) {
  const { status, body } = await call('GET', `/v1/documents/${id}`, { token: t.tokens.owner });
  expect(status).toBe(200);
  return (body as DocumentBody).document;
}

async function updateEvents(t: Tenant, id: string) {
  const { body } = await call('GET', '/v1/audit?limit=100', { token: t.tokens.owner });
  return (
    body as { events: { action: string; actor: { type: string; id: string }; resource: { id: string } }[] }
  ).events.filter((e) => e.action === 'documents.update' && e.resource.id === id);
}

/** An update frame as y-protocols writes it. */
function updateFrame(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  syncProtocol.writeUpdate(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** An edit made on a copy of `peer`'s document, as a raw update (not sent). */
function editOf(peer: YjsPeer, edit: (text: Y.Text) => void): Uint8Array {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(peer.doc));
  const before = Y.encodeStateVector(copy);
  edit(copy.getText('body'));
  return Y.encodeStateAsUpdate(copy, before);
}

const errors = (client: RoomClient) => client.frames.filter((f) => f.type === 'error').map((f) => f.code);

afterEach(() => {
  for (const { client, peer } of open.splice(0)) {
    peer?.destroy();
    try {
      client.ws.close();
    } catch {
      // already closed
    }
  }
});

describe('a collaborative document', () => {
  let t: Tenant;

  beforeAll(async () => {
    t = await createTenant();
  });

  it('starts from the stored body and carries an edit to every other socket and to Postgres, audited as its editor', async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'Hello' });
    const editor = await join(doc.id, t.tokens.editor);
    const viewer = await join(doc.id, t.tokens.viewer);
    expect(editor.peer.text.toString()).toBe('Hello');
    // Sync step 1 from the room came right after the welcome.
    expect(editor.client.binary[0]?.[0]).toBe(0);

    editor.peer.text.insert(5, ', world');
    await eventually(() => viewer.peer.text.toString() === 'Hello, world');

    // Saved by the room's own alarm, within 5 s (SPEC §4.1), with the version bumped.
    await eventually(async () => (await readDocument(t, doc.id)).body === 'Hello, world', 6000);
    const saved = await readDocument(t, doc.id);
    expect(saved.version).toBe(doc.version + 1);
    const events = await updateEvents(t, doc.id);
    expect(events.map((e) => e.actor)).toEqual([{ type: 'user', id: t.userIds.editor }]);
  });

  it('writes one documents.update event per actor whose edits a save holds', async () => {
    const doc = await createDoc(t.tokens.owner, { body: '' });
    const a = await join(doc.id, t.tokens.editor);
    const b = await join(doc.id, t.tokens.admin);
    a.peer.text.insert(0, 'A');
    await eventually(() => b.peer.text.toString() === 'A');
    b.peer.text.insert(1, 'B');
    await eventually(() => a.peer.text.toString() === 'AB');
    await eventually(async () => (await room(doc.id).documentState())?.body === 'AB');
    await runDurableObjectAlarm(room(doc.id));
    expect((await readDocument(t, doc.id)).body).toBe('AB');
    const actors = (await updateEvents(t, doc.id)).map((e) => e.actor.id).sort();
    expect(actors).toEqual([t.userIds.admin, t.userIds.editor].sort());
    expect((await room(doc.id).documentState())?.dirty).toBe(false);
  });

  it("refuses a viewer's write: never applied, stored or broadcast; answered INSUFFICIENT_PERMISSIONS", async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'locked' });
    const editor = await join(doc.id, t.tokens.editor);
    const viewer = await join(doc.id, t.tokens.viewer);
    const before = editor.client.binary.length;
    // The viewer's own sync step 2 on join brought nothing new: not a write, not refused.
    expect(errors(viewer.client)).toEqual([]);

    viewer.peer.text.insert(0, 'HACKED ');
    await viewer.client.next((f) => f.type === 'error' && f.code === 'INSUFFICIENT_PERMISSIONS');
    // A frame after the refusal, to be sure the room handled the write before we look.
    editor.peer.text.insert(6, '!');
    await eventually(async () => (await room(doc.id).documentState())?.body === 'locked!');
    expect(editor.peer.text.toString()).toBe('locked!');
    // The editor got no update from the viewer: only the room's own frames from before.
    expect(editor.client.binary.length).toBe(before);
    await evictDurableObject(room(doc.id));
    expect((await room(doc.id).documentState())?.body).toBe('locked!');
  });

  it('closes a viewer that keeps writing with 4008 (refused frames count as strikes)', async () => {
    const doc = await createDoc(t.tokens.owner, { body: '' });
    const viewer = await join(doc.id, t.tokens.viewer);
    for (let i = 0; i < 12; i++) viewer.peer.text.insert(0, 'x');
    expect((await withTimeout(viewer.client.closed, 5000, 'close')).code).toBe(4008);
    expect((await room(doc.id).documentState())?.body).toBe('');
  });

  it('keeps the state across hibernation and eviction as the same items (a reconnecting peer does not duplicate)', async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'base' });
    const first = await join(doc.id, t.tokens.editor);
    first.peer.text.insert(4, ' text');
    await eventually(async () => (await room(doc.id).documentState())?.body === 'base text');
    await evictDurableObject(room(doc.id)); // hibernation: sockets stay, memory is gone
    first.peer.text.insert(0, '> ');
    await eventually(async () => (await room(doc.id).documentState())?.body === '> base text');
    const held = Y.encodeStateAsUpdate(first.peer.doc);
    await evictDurableObject(room(doc.id), { webSockets: 'close' }); // eviction: sockets closed too
    await withTimeout(first.client.closed, 5000, 'close');

    // The same client reconnects holding its document: its sync step 2 merges without duplicating text.
    const again = await join(doc.id, t.tokens.editor);
    Y.applyUpdate(again.peer.doc, held);
    await eventually(async () => (await room(doc.id).documentState())?.body === '> base text');
    expect(again.peer.text.toString()).toBe('> base text');
  });

  it('turns a PATCH of body into a Yjs change in the open room', async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'one two three' });
    const editor = await join(doc.id, t.tokens.editor);
    const { status, body } = await call('PATCH', `/v1/documents/${doc.id}`, {
      token: t.tokens.owner,
      body: { body: 'one 2 three', version: doc.version },
    });
    expect(status).toBe(200);
    // The hook has answered with the PATCH: the room's text already equals the patched body.
    expect((await room(doc.id).documentState())?.body).toBe('one 2 three');
    expect((await room(doc.id).documentState())?.version).toBe((body as DocumentBody).document.version);
    await eventually(() => editor.peer.text.toString() === 'one 2 three');
  });

  it('loses no edit when HTTP PATCHes and room edits interleave', async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'middle' });
    const editor = await join(doc.id, t.tokens.editor);
    let version = doc.version;
    for (let round = 0; round < 4; round++) {
      // A room edit the room has not saved yet…
      editor.peer.text.insert(0, `r${round} `);
      await eventually(async () => (await room(doc.id).documentState())?.body.startsWith(`r${round} `) ?? false);
      // …and a PATCH from the version Postgres holds, appending at the end.
      const current = await readDocument(t, doc.id);
      version = current.version;
      const patched = await call('PATCH', `/v1/documents/${doc.id}`, {
        token: t.tokens.owner,
        body: { body: `${current.body} h${round}`, version },
      });
      expect(patched.status).toBe(200);
      if (round % 2 === 1) await runDurableObjectAlarm(room(doc.id));
    }
    await runDurableObjectAlarm(room(doc.id));
    const final = await readDocument(t, doc.id);
    for (let round = 0; round < 4; round++) {
      expect(final.body).toContain(`r${round} `);
      expect(final.body).toContain(` h${round}`);
    }
    expect(final.body).toContain('middle');
    await eventually(() => editor.peer.text.toString() === final.body);
  });

  it("discards an update that builds on items the room never received: it never lands later inside another's edit", async () => {
    const doc = await createDoc(t.tokens.owner, { body: '' });
    const a = await join(doc.id, t.tokens.editor);
    const b = await join(doc.id, t.tokens.admin);
    // B makes an edit but doesn't send it yet; A learns of it out of band and writes right after it.
    const bDoc = new Y.Doc();
    bDoc.getText('body').insert(0, 'b');
    const bUpdate = Y.encodeStateAsUpdate(bDoc);
    const aDoc = new Y.Doc();
    Y.applyUpdate(aDoc, bUpdate);
    const before = Y.encodeStateVector(aDoc);
    aDoc.getText('body').insert(1, 'EVIL');
    a.peer.sendRaw(updateFrame(Y.encodeStateAsUpdate(aDoc, before)));
    await a.client.next((f) => f.type === 'error' && f.code === 'VALIDATION_FAILED');
    // B's own edit arrives: only B's text is applied, saved and audited as B.
    b.peer.sendRaw(updateFrame(bUpdate));
    await eventually(async () => (await room(doc.id).documentState())?.body === 'b');
    await runDurableObjectAlarm(room(doc.id));
    expect((await readDocument(t, doc.id)).body).toBe('b');
    expect((await updateEvents(t, doc.id)).map((e) => e.actor.id)).toEqual([t.userIds.admin]);
  });

  it('answers 404 NOT_FOUND for a document deleted after the Worker checked it, before its room loaded it', async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'gone soon' });
    const actor = (await resolveBearer(t.tokens.editor, env, () => openDatabase(env))) as AdmittedActor;
    expect((await call('DELETE', `/v1/documents/${doc.id}`, { token: t.tokens.owner })).status).toBe(204);
    // The admission the Worker built just before the deletion committed.
    const admission = {
      actor,
      roomId: doc.id,
      expiresAt: actor.token.expiresAt,
      subprotocol: false,
      documentVersion: 1,
    };
    await expect(connectToRoom(env, admission)).rejects.toBeInstanceOf(NotFound);
    expect(await room(doc.id).documentState()).toBeNull();
  });

  it("forgets a deleted document's Yjs state", async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'secret text' });
    const editor = await join(doc.id, t.tokens.editor);
    expect((await room(doc.id).documentState())?.body).toBe('secret text');
    expect((await call('DELETE', `/v1/documents/${doc.id}`, { token: t.tokens.owner })).status).toBe(204);
    expect((await withTimeout(editor.client.closed, 5000, 'close')).code).toBe(4003);
    expect(await room(doc.id).documentState()).toBeNull();
    await evictDurableObject(room(doc.id));
    expect(await room(doc.id).documentState()).toBeNull();
  });

  it('applies nothing a socket sends after its 4003', async () => {
    const t2 = await createTenant();
    const doc2 = await createDoc(t2.tokens.owner, { body: 'kept' });
    const editor = await join(doc2.id, t2.tokens.editor);
    const early = editOf(editor.peer, (text) => text.insert(0, 'late '));
    const removed = await call('DELETE', `/v1/members/${t2.userIds.editor}`, { token: t2.tokens.owner });
    expect(removed.status).toBe(204);
    // The request has answered: the room applies nothing more from this socket.
    try {
      editor.client.ws.send(updateFrame(early));
    } catch {
      // already closed: nothing could arrive anyway
    }
    expect((await withTimeout(editor.client.closed, 5000, 'close')).code).toBe(4003);
    expect((await room(doc2.id).documentState())?.body).toBe('kept');
  });
});

describe('awareness, stamped by the room', () => {
  let t: Tenant;

  beforeAll(async () => {
    t = await createTenant();
  });

  it('stamps each state with its actor and refuses another client id', async () => {
    const doc = await createDoc(t.tokens.owner);
    const editor = await join(doc.id, t.tokens.editor);
    const viewer = await join(doc.id, t.tokens.viewer);
    // The editor claims to be the owner in its state: the room overwrites `signet`.
    editor.peer.awareness.setLocalState({ name: 'Ed', cursor: 3, signet: { type: 'user', id: t.userIds.owner } });
    await eventually(() => viewer.peer.awareness.getStates().has(editor.peer.doc.clientID));
    const seen = viewer.peer.awareness.getStates().get(editor.peer.doc.clientID) as Record<string, unknown>;
    expect(seen).toEqual({ name: 'Ed', cursor: 3, signet: { type: 'user', id: t.userIds.editor, role: 'editor' } });

    // The viewer forges an entry for the editor's client id: dropped, answered VALIDATION_FAILED.
    const forged = new awarenessProtocol.Awareness(new Y.Doc());
    forged.clientID = editor.peer.doc.clientID;
    // Newer than the editor's own state (an entry at the room's clock would be an echo, ignored).
    for (let i = 0; i < 5; i++) forged.setLocalState({ name: 'not Ed' });
    viewer.peer.awareness.setLocalState({ name: 'Vi' }); // binds the viewer to its own id first
    await eventually(() => editor.peer.awareness.getStates().has(viewer.peer.doc.clientID));
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(forged, [forged.clientID]));
    viewer.peer.sendRaw(encoding.toUint8Array(encoder));
    await viewer.client.next((f) => f.type === 'error' && f.code === 'VALIDATION_FAILED');
    // The echoes a stock provider sends back (every state it received) were not refused: only the forgery was.
    expect(errors(viewer.client)).toEqual(['VALIDATION_FAILED']);
    expect(errors(editor.client)).toEqual([]);
    const still = editor.peer.awareness.getStates().get(editor.peer.doc.clientID) as Record<string, unknown>;
    expect(still.name).toBe('Ed');
    forged.destroy();

    // A joining socket gets the current states; a closed connection's state is removed for everyone.
    const late = await join(doc.id, t.tokens.admin);
    await eventually(() => late.peer.awareness.getStates().has(editor.peer.doc.clientID));
    editor.client.ws.close();
    await eventually(() => !late.peer.awareness.getStates().has(editor.peer.doc.clientID));
    await eventually(() => !viewer.peer.awareness.getStates().has(editor.peer.doc.clientID));
  });

  it('keeps the states across hibernation for a socket that joins after it', async () => {
    const doc = await createDoc(t.tokens.owner);
    const editor = await join(doc.id, t.tokens.editor);
    const viewer = await join(doc.id, t.tokens.viewer);
    editor.peer.awareness.setLocalState({ name: 'Ed' });
    await eventually(() => viewer.peer.awareness.getStates().has(editor.peer.doc.clientID));
    await evictDurableObject(room(doc.id));
    const late = await join(doc.id, t.tokens.admin);
    await eventually(() => late.peer.awareness.getStates().has(editor.peer.doc.clientID));
    const seen = late.peer.awareness.getStates().get(editor.peer.doc.clientID) as Record<string, unknown>;
    expect(seen.signet).toEqual({ type: 'user', id: t.userIds.editor, role: 'editor' });
  });
});

describe('binary limits', () => {
  let t: Tenant;

  beforeAll(async () => {
    t = await createTenant();
  });

  it('answers a malformed binary frame with VALIDATION_FAILED and closes repeated ones with 4008', async () => {
    const doc = await createDoc(t.tokens.owner);
    const editor = await join(doc.id, t.tokens.editor);
    editor.peer.sendRaw(new Uint8Array([7, 1, 2]));
    await editor.client.next((f) => f.type === 'error' && f.code === 'VALIDATION_FAILED');
    for (let i = 0; i < 10; i++) editor.peer.sendRaw(new Uint8Array([0, 2, 5, 1, 1]));
    expect((await withTimeout(editor.client.closed, 5000, 'close')).code).toBe(4008);
  });

  it('closes a binary message over 256 KiB with 4009', async () => {
    const doc = await createDoc(t.tokens.owner);
    const editor = await join(doc.id, t.tokens.editor);
    editor.peer.sendRaw(new Uint8Array(256 * 1024 + 1));
    expect((await withTimeout(editor.client.closed, 5000, 'close')).code).toBe(4009);
  });

  it('refuses an edit that would take the body past 60,000 characters, and applies nothing of it', async () => {
    const doc = await createDoc(t.tokens.owner, { body: 'x'.repeat(59_990) });
    const editor = await join(doc.id, t.tokens.editor);
    editor.peer.sendRaw(updateFrame(editOf(editor.peer, (text) => text.insert(0, 'y'.repeat(11)))));
    await editor.client.next((f) => f.type === 'error' && f.code === 'PAYLOAD_TOO_LARGE');
    // A replacement that stays within the cap is fine, even though it inserts past it.
    editor.peer.sendRaw(
      updateFrame(
        editOf(editor.peer, (text) => {
          text.delete(0, 20);
          text.insert(0, 'z'.repeat(30));
        }),
      ),
    );
    await eventually(async () => (await room(doc.id).documentState())?.body.startsWith('z'.repeat(30)) ?? false);
    expect((await room(doc.id).documentState())?.body.length).toBe(60_000);
  });
});
