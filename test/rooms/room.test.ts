import { env, evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { craftToken, devToken, validClaims, validHeader } from '../support/actors.ts';
import { call, errorCode } from '../support/http.ts';
import { connected, openRoom, withTimeout } from '../support/sockets.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

const room = (id: string) => env.ROOMS.get(env.ROOMS.idFromName(id));

describe('joining a room', () => {
  let t: Tenant;
  let other: Tenant;
  let docId: string;

  beforeAll(async () => {
    [t, other] = await Promise.all([createTenant(), createTenant()]);
    docId = (await createDoc(t.tokens.owner)).id;
  });

  it('refuses an upgrade without credentials (401) and with a bad token (401)', async () => {
    const none = await openRoom(docId);
    expect([none.status, errorCode(none.body)]).toEqual([401, 'AUTHENTICATION_REQUIRED']);
    const bad = await openRoom(docId, { token: 'a.b.c' });
    expect([bad.status, errorCode(bad.body)]).toEqual([401, 'INVALID_TOKEN']);
    const badProtocol = await openRoom(docId, { subprotocols: ['signet.v1', 'bearer.a.b.c'] });
    expect([badProtocol.status, errorCode(badProtocol.body)]).toEqual([401, 'INVALID_TOKEN']);
  });

  it("answers 404 for another organization's document and for a missing one", async () => {
    const foreign = await openRoom(docId, { token: other.tokens.owner });
    expect([foreign.status, errorCode(foreign.body)]).toEqual([404, 'NOT_FOUND']);
    const missing = await openRoom(crypto.randomUUID(), { token: t.tokens.owner });
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'NOT_FOUND']);
  });

  it('refuses an actor without rooms:join (403)', async () => {
    const tenant = await createTenant(['documents:read']);
    const doc = await createDoc(tenant.tokens.owner);
    const refused = await openRoom(doc.id, { token: tenant.tokens.service });
    expect([refused.status, errorCode(refused.body)]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
  });

  it('accepts browser credentials in the subprotocol and answers with signet.v1 only', async () => {
    const { status, client } = await openRoom(docId, { subprotocols: ['signet.v1', `bearer.${t.tokens.viewer}`] });
    expect(status).toBe(101);
    expect(client!.protocol).toBe('signet.v1');
    const welcome = await client!.next((f) => f.type === 'welcome');
    expect(welcome.actor).toEqual({ type: 'user', id: t.userIds.viewer, role: 'viewer' });
    client!.ws.close(1000);
  });

  it('refuses a bearer subprotocol without signet.v1', async () => {
    const response = await openRoom(docId, { subprotocols: [`bearer.${t.tokens.viewer}`] });
    expect([response.status, errorCode(response.body)]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('refuses a plain GET (no upgrade) with 400', async () => {
    const response = await call('GET', `/v1/rooms/${docId}`, { token: t.tokens.viewer });
    expect([response.status, errorCode(response.body)]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('presence and messages', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('welcomes with the peers, announces joins and leaves', async () => {
    const doc = await createDoc(t.tokens.owner);
    const alice = await connected(doc.id, t.tokens.editor);
    const welcomeBob = await openRoom(doc.id, { token: t.tokens.viewer });
    const bob = welcomeBob.client!;
    const welcome = await bob.next((f) => f.type === 'welcome');
    const aliceWelcome = alice.frames.find((f) => f.type === 'welcome')!;
    expect(welcome.peers).toEqual([
      { connectionId: aliceWelcome.connectionId, actor: { type: 'user', id: t.userIds.editor, role: 'editor' } },
    ]);
    const joined = await alice.next((f) => f.type === 'joined');
    expect(joined).toMatchObject({ connectionId: welcome.connectionId, actor: { id: t.userIds.viewer } });
    bob.ws.close(1000, 'bye');
    const left = await alice.next((f) => f.type === 'left');
    expect(left).toMatchObject({ connectionId: welcome.connectionId });
    alice.ws.close(1000);
  });

  it('delivers messages to everyone in order, with seq increasing by one', async () => {
    const doc = await createDoc(t.tokens.owner);
    const a = await connected(doc.id, t.tokens.editor);
    const b = await connected(doc.id, t.tokens.admin);
    for (let i = 0; i < 10; i++) a.send({ type: 'publish', data: { n: i } });
    await b.next((f) => f.type === 'message' && (f.data as { n: number }).n === 9);
    await a.next((f) => f.type === 'message' && (f.data as { n: number }).n === 9);
    for (const client of [a, b]) {
      const messages = client.frames.filter((f) => f.type === 'message');
      expect(messages.map((m) => (m.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const seqs = messages.map((m) => m.seq as number);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      expect(messages[0]!.from).toMatchObject({ actor: { type: 'user', id: t.userIds.editor } });
    }
    a.ws.close(1000);
    b.ws.close(1000);
  });

  it('checks rooms:publish on every frame', async () => {
    const doc = await createDoc(t.tokens.owner);
    const viewer = await connected(doc.id, t.tokens.viewer);
    const editor = await connected(doc.id, t.tokens.editor);
    viewer.send({ type: 'publish', data: 'hello' });
    const error = await viewer.next((f) => f.type === 'error');
    expect(error.code).toBe('INSUFFICIENT_PERMISSIONS');
    editor.send({ type: 'publish', data: 'after' });
    const delivered = await viewer.next((f) => f.type === 'message');
    expect(delivered.data).toBe('after');
    expect(editor.frames.filter((f) => f.type === 'message').map((m) => m.data)).not.toContain('hello');
    viewer.ws.close(1000);
    editor.ws.close(1000);
  });

  it('answers ping with pong', async () => {
    const doc = await createDoc(t.tokens.owner);
    const client = await connected(doc.id, t.tokens.viewer);
    client.send({ type: 'ping' });
    await client.next((f) => f.type === 'pong');
    client.ws.close(1000);
  });

  it('keeps seq across a restart of the room', async () => {
    const doc = await createDoc(t.tokens.owner);
    const first = await connected(doc.id, t.tokens.editor);
    first.send({ type: 'publish', data: 1 });
    const before = (await first.next((f) => f.type === 'message')).seq as number;
    first.ws.close(1000);
    await first.closed;
    await evictDurableObject(room(doc.id), { webSockets: 'close' });
    const second = await connected(doc.id, t.tokens.editor);
    expect(second.frames[0]!.seq).toBe(before);
    second.send({ type: 'publish', data: 2 });
    expect((await second.next((f) => f.type === 'message')).seq).toBe(before + 1);
    second.ws.close(1000);
  });

  it('restores the actor from the attachment after hibernation, not from the client', async () => {
    const doc = await createDoc(t.tokens.owner);
    const viewer = await connected(doc.id, t.tokens.viewer);
    const editor = await connected(doc.id, t.tokens.editor);
    await evictDurableObject(room(doc.id)); // hibernates: sockets stay open, in-memory state is gone
    // The viewer claims to be the editor in its frame: ignored, its actor comes from the attachment.
    viewer.send({ type: 'publish', data: 'sneaky', from: { actor: { id: t.userIds.editor, role: 'owner' } } });
    expect((await viewer.next((f) => f.type === 'error')).code).toBe('VALIDATION_FAILED');
    viewer.send({ type: 'publish', data: 'sneaky' });
    expect((await viewer.next((f) => f.type === 'error' && f.code === 'INSUFFICIENT_PERMISSIONS')).code).toBe(
      'INSUFFICIENT_PERMISSIONS',
    );
    editor.send({ type: 'publish', data: 'still here' });
    const message = await viewer.next((f) => f.type === 'message');
    expect(message).toMatchObject({ data: 'still here', from: { actor: { id: t.userIds.editor, role: 'editor' } } });
    viewer.ws.close(1000);
    editor.ws.close(1000);
  });
});

describe('abuse', () => {
  let t: Tenant;
  let docId: string;
  beforeAll(async () => {
    t = await createTenant();
    docId = (await createDoc(t.tokens.owner)).id;
  });

  it('answers a malformed frame with VALIDATION_FAILED and keeps the connection open', async () => {
    const client = await connected(docId, t.tokens.editor);
    for (const bad of ['not json', '{"type":"shout"}', '{"type":"publish"}', '[]']) {
      client.send(bad);
      await client.next((f) => f.type === 'error' && client.frames.filter((x) => x.type === 'error').length > 0);
    }
    expect(client.frames.filter((f) => f.type === 'error').every((f) => f.code === 'VALIDATION_FAILED')).toBe(true);
    client.send({ type: 'ping' });
    await client.next((f) => f.type === 'pong');
    client.ws.close(1000);
  });

  it('closes with 4008 after repeated malformed frames', async () => {
    const client = await connected(docId, t.tokens.editor);
    for (let i = 0; i < 12; i++) client.send('garbage');
    expect((await withTimeout(client.closed, 5000, 'close')).code).toBe(4008);
  });

  it('closes with 4008 on a sustained flood', async () => {
    const client = await connected(docId, t.tokens.editor);
    for (let i = 0; i < 200; i++) client.send({ type: 'publish', data: i });
    expect((await withTimeout(client.closed, 5000, 'close')).code).toBe(4008);
    expect(client.frames.some((f) => f.type === 'error' && f.code === 'RATE_LIMITED')).toBe(true);
  });

  it('closes with 4009 for data over 16 KiB', async () => {
    const client = await connected(docId, t.tokens.editor);
    client.send({ type: 'publish', data: 'x'.repeat(17 * 1024) });
    expect((await withTimeout(client.closed, 5000, 'close')).code).toBe(4009);
  });

  it('accepts data just under 16 KiB', async () => {
    const client = await connected(docId, t.tokens.editor);
    client.send({ type: 'publish', data: 'x'.repeat(16 * 1024 - 10) });
    await client.next((f) => f.type === 'message');
    client.ws.close(1000);
  });
});

describe('live authorization', () => {
  it("closes a socket with 4001 at its token's exp, even when idle", async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const now = Math.floor(Date.now() / 1000);
    const token = await craftToken(
      validHeader(),
      validClaims({ sub: t.userIds.editor, org: t.id, role: 'editor', iat: now, exp: now + 2 }),
    );
    const client = await connected(doc.id, token);
    const { code } = await withTimeout(client.closed, 8000, 'expiry close');
    expect(code).toBe(4001);
  });

  it("keeps a re-authenticated socket open past the first token's exp", async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const now = Math.floor(Date.now() / 1000);
    const short = await craftToken(
      validHeader(),
      validClaims({ sub: t.userIds.editor, org: t.id, role: 'editor', iat: now, exp: now + 2 }),
    );
    const client = await connected(doc.id, short);
    client.send({ type: 'reauth', token: t.tokens.editor });
    await new Promise((resolve) => setTimeout(resolve, 3500));
    await runDurableObjectAlarm(room(doc.id));
    client.send({ type: 'ping' });
    await client.next((f) => f.type === 'pong');
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.ws.close(1000);
  });

  it('refuses a reauth token of another actor, keeping the connection and its old expiry', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const client = await connected(doc.id, t.tokens.viewer);
    client.send({ type: 'reauth', token: t.tokens.owner });
    expect((await client.next((f) => f.type === 'error')).code).toBe('INVALID_TOKEN');
    client.send({ type: 'publish', data: 'x' });
    expect((await client.next((f) => f.type === 'error' && f.code === 'INSUFFICIENT_PERMISSIONS')).code).toBe(
      'INSUFFICIENT_PERMISSIONS',
    );
    client.ws.close(1000);
  });

  it("closes a removed member's sockets with 4003 within 2 s, in every room", async () => {
    const t = await createTenant();
    const [d1, d2] = [await createDoc(t.tokens.owner), await createDoc(t.tokens.owner)];
    const inFirst = await connected(d1.id, t.tokens.editor);
    const inSecond = await connected(d2.id, t.tokens.editor);
    const bystander = await connected(d1.id, t.tokens.viewer);
    const started = Date.now();
    expect((await call('DELETE', `/v1/members/${t.userIds.editor}`, { token: t.tokens.admin })).status).toBe(204);
    const closes = await withTimeout(Promise.all([inFirst.closed, inSecond.closed]), 2000, 'revocation close');
    expect(closes.map((c) => c.code)).toEqual([4003, 4003]);
    expect(Date.now() - started).toBeLessThan(2000);
    bystander.send({ type: 'ping' });
    await bystander.next((f) => f.type === 'pong');
    bystander.ws.close(1000);
  });

  it("closes a service's sockets with 4003 when its API key is revoked", async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const service = await connected(doc.id, t.tokens.service);
    expect((await call('DELETE', `/v1/api-keys/${t.serviceKeyId}`, { token: t.tokens.owner })).status).toBe(204);
    expect((await withTimeout(service.closed, 2000, 'revocation close')).code).toBe(4003);
  });

  it('closes everyone with 4003 when the document is deleted', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const clients = await Promise.all([connected(doc.id, t.tokens.viewer), connected(doc.id, t.tokens.editor)]);
    expect((await call('DELETE', `/v1/documents/${doc.id}`, { token: t.tokens.admin })).status).toBe(204);
    const closes = await withTimeout(Promise.all(clients.map((c) => c.closed)), 2000, 'deletion close');
    expect(closes.map((c) => c.code)).toEqual([4003, 4003]);
    const again = await openRoom(doc.id, { token: t.tokens.viewer });
    expect(again.status).toBe(404);
  });

  it('refuses to open a room for a token revoked meanwhile', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await call('DELETE', `/v1/members/${t.userIds.viewer}`, { token: t.tokens.admin });
    const refused = await openRoom(doc.id, { token: t.tokens.viewer });
    expect([refused.status, errorCode(refused.body)]).toEqual([401, 'TOKEN_REVOKED']);
    expect(await devToken(t.emails.editor, t.slug)).toBeTruthy();
  });
});

describe('scale', () => {
  it('delivers one broadcast to 200 sockets in one room', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const clients = [];
    for (let i = 0; i < 200; i++) clients.push(await connected(doc.id, i % 2 ? t.tokens.viewer : t.tokens.editor));
    clients[0]!.send({ type: 'publish', data: 'to all' });
    const received = await Promise.all(
      clients.map((c) => c.next((f) => f.type === 'message' && f.data === 'to all', 10_000)),
    );
    expect(received).toHaveLength(200);
    expect(new Set(received.map((m) => m.seq)).size).toBe(1);
    for (const c of clients) c.ws.close(1000);
  }, 60_000);
});
