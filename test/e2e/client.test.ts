/**
 * The typed client end to end, from Node, against a real `npm run dev`: HTTP methods with typed
 * results and errors, and rooms that re-authenticate before expiry, reconnect after a close, and stop
 * for good when access is revoked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, isSignetError, type SignetClient, SignetClientError } from '../../src/client/index.ts';
import { withTimeout } from '../support/timeout.ts';
import { type DevServer, startDevServer } from './support/dev-server.ts';

let server: DevServer;

async function devToken(email: string, ttl_seconds = 900): Promise<string> {
  const anonymous = createClient({ baseUrl: server.base });
  return (await anonymous.exchangeToken({ grant_type: 'dev', email, organization: 'demo', ttl_seconds })).access_token;
}

function clientFor(email: string, ttl_seconds = 900): SignetClient {
  return createClient({ baseUrl: server.base, getToken: () => devToken(email, ttl_seconds) });
}

describe('the typed client', () => {
  beforeAll(async () => {
    server = await startDevServer();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('calls the API with typed results and typed errors', async () => {
    const editor = clientFor('editor@demo.signet.dev');
    const { document } = await editor.documents.create({ title: 'From the client', body: 'v1' });
    expect(document).toMatchObject({ title: 'From the client', version: 1, visibility: 'private' });
    const { document: updated } = await editor.documents.update(document.id, { body: 'v2', version: 1 });
    expect(updated.version).toBe(2);
    const stale = await editor.documents.update(document.id, { body: 'lost', version: 1 }).catch((e: unknown) => e);
    expect(isSignetError(stale, 'CONFLICT')).toBe(true);
    expect(stale).toMatchObject({ status: 409, requestId: expect.any(String) });
    const anonymous = createClient({ baseUrl: server.base });
    const refused = await anonymous.documents.list().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SignetClientError);
    expect((refused as SignetClientError).code).toBe('AUTHENTICATION_REQUIRED');
    const viewer = clientFor('viewer@demo.signet.dev');
    const denied = await viewer.documents.delete(document.id).catch((e: unknown) => e);
    expect((denied as SignetClientError).code).toBe('INSUFFICIENT_PERMISSIONS');
    const unreachable = createClient({ baseUrl: 'http://127.0.0.1:9' });
    expect(((await unreachable.me().catch((e: unknown) => e)) as SignetClientError).code).toBe('NETWORK_ERROR');
  });

  it('delegates to an agent, which works with its own token until the user ends it', async () => {
    const userToken = await devToken('editor@demo.signet.dev');
    const user = createClient({ baseUrl: server.base, token: userToken });
    const delegated = await user.delegations.create({
      subjectToken: userToken,
      scope: ['documents:read', 'documents:write'],
      agent: { name: 'Drafting assistant' },
      ttlSeconds: 300,
    });
    expect(delegated.actor).toMatchObject({ type: 'agent', name: 'Drafting assistant' });
    const agent = createClient({ baseUrl: server.base, token: delegated.access_token });
    const { document } = await agent.documents.create({ title: 'Drafted by an agent' });
    expect(document.title).toBe('Drafted by an agent');
    const { delegations } = await user.delegations.list();
    expect(delegations.map((d) => d.id)).toContain(delegated.delegation_id);
    await user.delegations.end(delegated.delegation_id);
    const refused = await agent.documents.get(document.id).catch((e: unknown) => e);
    expect(isSignetError(refused, 'TOKEN_REVOKED')).toBe(true);
  });

  it('joins a room: presence and messages as typed events', async () => {
    const editor = clientFor('editor@demo.signet.dev');
    const { document } = await editor.documents.create({ title: 'Room' });
    const a = editor.room(document.id);
    await withTimeout(a.once('welcome'), 10_000, 'welcome a');
    const b = clientFor('viewer@demo.signet.dev').room(document.id);
    const joined = withTimeout(a.once('joined'), 10_000, 'joined');
    await withTimeout(b.once('welcome'), 10_000, 'welcome b');
    expect((await joined).actor.role).toBe('viewer');
    expect([...b.peers.values()].map((p) => p.actor.role).sort()).toEqual(['editor', 'viewer']);
    const received = withTimeout(b.once('message'), 10_000, 'message');
    a.publish({ hello: 'world' });
    expect(await received).toMatchObject({ data: { hello: 'world' }, from: { actor: { role: 'editor' } } });
    a.close();
    b.close();
  }, 30_000);

  it('re-authenticates before the token expires, so the room stays open', async () => {
    const editor = clientFor('editor@demo.signet.dev', 6);
    const { document } = await createClient({
      baseUrl: server.base,
      token: await devToken('editor@demo.signet.dev'),
    }).documents.create({
      title: 'Reauth',
    });
    const room = editor.room(document.id);
    await withTimeout(room.once('welcome'), 10_000, 'welcome');
    const events: string[] = [];
    room.on('expired', () => events.push('expired'));
    room.on('closed', (e) => events.push(`closed ${e.code}`));
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    const pong = withTimeout(room.once('pong'), 5_000, 'pong');
    room.ping();
    await pong;
    expect(events).toEqual([]);
    expect(room.state).toBe('open');
    room.close();
  }, 30_000);

  it('reconnects with backoff after a close, and gets a fresh welcome', async () => {
    const editor = clientFor('editor@demo.signet.dev');
    const { document } = await editor.documents.create({ title: 'Reconnect' });
    const room = editor.room(document.id, { minReconnectionDelay: 100 });
    const first = await withTimeout(room.once('welcome'), 10_000, 'first welcome');
    const tooLarge = withTimeout(room.once('too-large'), 10_000, 'too-large');
    const again = withTimeout(
      new Promise((resolve) => room.on('welcome', (w) => w.connectionId !== first.connectionId && resolve(w))),
      15_000,
      'second welcome',
    );
    room.publish('x'.repeat(20 * 1024)); // over 16 KiB: the server closes with 4009
    expect((await tooLarge).code).toBe(4009);
    await again;
    expect(room.state).toBe('open');
    room.close();
  }, 30_000);

  it('stops for good when access is revoked (4003)', async () => {
    const owner = clientFor('owner@demo.signet.dev');
    const email = `client-${Date.now()}@example.com`;
    const { member } = await owner.members.add({ email, role: 'editor' });
    const { document } = await owner.documents.create({ title: 'Revocation' });
    const room = createClient({ baseUrl: server.base, getToken: () => devToken(email) }).room(document.id);
    await withTimeout(room.once('welcome'), 10_000, 'welcome');
    // The close completes within 1 s of the answer (test/e2e/room-close.test.ts measures it).
    const revoked = withTimeout(room.once('revoked'), 5_000, 'revoked');
    await owner.members.remove(member.userId);
    const got = await revoked;
    expect(got.code).toBe(4003);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(room.state).toBe('closed');
  }, 30_000);
});
