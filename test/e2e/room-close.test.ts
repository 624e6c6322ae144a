/**
 * Closes the server starts complete within 1 s (SPEC §4), measured where they can be late: real `ws`
 * clients over TCP against a real `npm run dev` (wrangler dev, workerd), a lone socket and a full room,
 * for each way the server closes — a member removed (4003), a document deleted (4003), a token's expiry
 * (4001) — and with the typed client. Each socket has sent one frame (a `ping`, as the typed client
 * does on every connection): workerd completes the close handshake of a connection that has carried
 * no client frame only when the Durable Object goes idle (README, "Realtime rooms").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from '../../src/client/index.ts';
import { withTimeout } from '../support/timeout.ts';
import { type DevServer, startDevServer } from './support/dev-server.ts';

let server: DevServer;

async function token(email: string, ttl_seconds = 900): Promise<string> {
  const response = await fetch(`${server.base}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'dev', email, organization: 'demo', ttl_seconds }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function api(method: string, path: string, bearer: string, body?: unknown): Promise<Response> {
  return fetch(`${server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function newDocument(owner: string): Promise<string> {
  const response = await api('POST', '/v1/documents', owner, { title: `Closes ${Date.now()}` });
  return ((await response.json()) as { document: { id: string } }).document.id;
}

async function newMember(owner: string): Promise<{ userId: string; email: string }> {
  const email = `close-${crypto.randomUUID()}@example.com`;
  const response = await api('POST', '/v1/members', owner, { email, role: 'editor' });
  expect(response.status).toBe(201);
  return { userId: ((await response.json()) as { member: { userId: string } }).member.userId, email };
}

interface Socket {
  ws: WebSocket;
  /** Resolves with the close code and when the client's `close` event fired (`Date.now()`). */
  closed: Promise<{ code: number; at: number }>;
}

/** A `ws` client in the room that has had its welcome and sent one `ping` (answered `pong`). */
async function join(documentId: string, bearer: string): Promise<Socket> {
  const ws = new WebSocket(`${server.base.replace('http:', 'ws:')}/v1/rooms/${documentId}`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    ws.once('close', (code) => resolve({ code, at: Date.now() })),
  );
  const frames: string[] = [];
  const seen = (type: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => frames.some((f) => f.includes(`"type":"${type}"`)) && resolve();
      ws.on('message', (data) => {
        frames.push(data.toString());
        check();
      });
      ws.once('error', reject);
      check();
    });
  await withTimeout(seen('welcome'), 10_000, 'welcome');
  ws.send('{"type":"ping"}');
  await withTimeout(seen('pong'), 10_000, 'pong');
  return { ws, closed };
}

async function fill(documentId: string, bearer: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += 10) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => join(documentId, bearer)))));
  }
  return sockets;
}

describe('a close the server starts', () => {
  let owner: string;
  let viewer: string;

  beforeAll(async () => {
    server = await startDevServer();
    owner = await token('owner@demo.signet.dev');
    viewer = await token('viewer@demo.signet.dev');
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  for (const roomSize of [0, 30]) {
    const where = roomSize === 0 ? 'a lone socket' : `a socket among ${roomSize}`;

    it(`completes within 1 s for ${where} when its member is removed (4003)`, async () => {
      const documentId = await newDocument(owner);
      const others = await fill(documentId, viewer, roomSize);
      const member = await newMember(owner);
      const target = await join(documentId, await token(member.email));
      expect((await api('DELETE', `/v1/members/${member.userId}`, owner)).status).toBe(204);
      const answered = Date.now();
      const { code, at } = await withTimeout(target.closed, 5_000, 'close event');
      expect(code).toBe(4003);
      expect(at - answered).toBeLessThan(1_000);
      for (const other of others) expect(other.ws.readyState).toBe(WebSocket.OPEN);
      for (const other of others) other.ws.terminate();
    }, 60_000);

    it(`completes within 1 s for ${where} when the document is deleted (4003)`, async () => {
      const documentId = await newDocument(owner);
      const sockets = [...(await fill(documentId, viewer, roomSize)), await join(documentId, owner)];
      expect((await api('DELETE', `/v1/documents/${documentId}`, owner)).status).toBe(204);
      const answered = Date.now();
      const closes = await withTimeout(Promise.all(sockets.map((s) => s.closed)), 5_000, 'close events');
      expect(new Set(closes.map((c) => c.code))).toEqual(new Set([4003]));
      expect(Math.max(...closes.map((c) => c.at)) - answered).toBeLessThan(1_000);
    }, 60_000);

    it(`completes within 1 s of the token's exp for ${where} (4001)`, async () => {
      const documentId = await newDocument(owner);
      const others = await fill(documentId, viewer, roomSize);
      const short = await token('editor@demo.signet.dev', 5);
      const exp = (JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
      const target = await join(documentId, short);
      const { code, at } = await withTimeout(target.closed, 10_000, 'expiry close');
      expect(code).toBe(4001);
      expect(at - exp * 1000).toBeLessThan(1_000);
      for (const other of others) other.ws.terminate();
    }, 60_000);
  }

  it('reaches the typed client as `revoked` within 1 s', async () => {
    const documentId = await newDocument(owner);
    const member = await newMember(owner);
    const room = createClient({ baseUrl: server.base, getToken: () => token(member.email) }).room(documentId);
    await withTimeout(room.once('welcome'), 10_000, 'welcome');
    await withTimeout(room.once('pong'), 10_000, 'the ping the client sends on open');
    const revoked = room.once('revoked');
    expect((await api('DELETE', `/v1/members/${member.userId}`, owner)).status).toBe(204);
    const answered = Date.now();
    expect((await withTimeout(revoked, 5_000, 'revoked')).code).toBe(4003);
    expect(Date.now() - answered).toBeLessThan(1_000);
  }, 30_000);
});
