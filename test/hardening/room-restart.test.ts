/**
 * A busy room's Durable Object restarted under it: several clients publishing at once, then the object
 * hibernated (sockets kept) and evicted (sockets closed, everyone reconnects). Every client sees one
 * order of messages, `seq` never repeats or skips across the restarts, and each actor — in `welcome`,
 * in peers and on every message — is the one its token names, restored from storage and attachments.
 * (The typed client's own reconnect loop is tested against `npm run dev` in test/e2e/client.test.ts.)
 * Kept apart from faults.test.ts, whose requests all go through the fault proxy.
 */
import { env, evictDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DocumentRoom } from '../../src/rooms/room.ts';
import { connected, type Frame, type RoomClient, withTimeout } from '../support/sockets.ts';
import { createDoc, createTenant, type Tenant, type Who } from '../support/tenants.ts';

const PER_PUBLISHER = 8;

interface Member {
  who: Exclude<Who, 'service'>;
  client: RoomClient;
}

const room = (id: string) => env.ROOMS.get(env.ROOMS.idFromName(id)) as DurableObjectStub<DocumentRoom>;
const messagesOf = (client: RoomClient, round: number) =>
  client.frames.filter((f) => f.type === 'message' && (f.data as { round: number }).round === round);

describe('a Durable Object restart in the middle of a busy room', () => {
  let t: Tenant;
  let documentId: string;
  // Publishers (one actor twice, on two connections) and a viewer that only listens.
  const roles: Exclude<Who, 'service'>[] = ['owner', 'admin', 'editor', 'editor', 'viewer'];
  const publishers = (members: Member[]) => members.filter((m) => m.who !== 'viewer');

  beforeAll(async () => {
    t = await createTenant();
    documentId = (await createDoc(t.tokens.owner)).id;
  });

  async function join(): Promise<Member[]> {
    const members: Member[] = [];
    for (const who of roles) members.push({ who, client: await connected(documentId, t.tokens[who]) });
    return members;
  }

  /**
   * Every publisher sends its messages at once; every client receives them all, in the same order,
   * numbered `from + 1 …` without a gap, each from the connection and actor that sent it.
   */
  async function publishRound(members: Member[], round: number, from: number): Promise<number> {
    for (let n = 0; n < PER_PUBLISHER; n++) {
      for (const [index, { client }] of publishers(members).entries()) {
        client.send({ type: 'publish', data: { round, publisher: index, n } });
      }
    }
    const total = publishers(members).length * PER_PUBLISHER;
    await withTimeout(
      Promise.all(
        members.map(({ client }) =>
          client.next((f) => f.type === 'message' && messagesOf(client, round).length === total, 10_000),
        ),
      ),
      15_000,
      `round ${round} delivered to everyone`,
    );
    const reference = messagesOf(members[0]!.client, round);
    expect(reference.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => from + 1 + i));
    const connectionIds = publishers(members).map(({ client }) => welcomeOf(client).connectionId);
    for (const message of reference) {
      const { publisher } = message.data as { publisher: number };
      const sender = publishers(members)[publisher]!;
      expect(message.from).toEqual({
        connectionId: connectionIds[publisher],
        actor: { type: 'user', id: t.userIds[sender.who], role: sender.who },
      });
    }
    for (const { client } of members) {
      const seen = messagesOf(client, round);
      expect(seen.map((m) => [m.seq, m.data])).toEqual(reference.map((m) => [m.seq, m.data]));
    }
    return from + total;
  }

  const welcomeOf = (client: RoomClient) => client.frames.find((f) => f.type === 'welcome') as Frame;

  it('keeps seq and every actor through a hibernation and an eviction; everyone reconnects', async () => {
    let members = await join();
    const start = welcomeOf(members.at(-1)!.client).seq as number;
    let seq = await publishRound(members, 1, start);

    // Hibernated: the sockets stay open, the object's memory is gone; actors come back from attachments.
    await evictDurableObject(room(documentId));
    seq = await publishRound(members, 2, seq);

    // Evicted with its sockets closed: every client is disconnected and reconnects.
    await evictDurableObject(room(documentId), { webSockets: 'close' });
    await withTimeout(Promise.all(members.map(({ client }) => client.closed)), 10_000, 'every socket closed');
    members = await join();
    for (const [index, { who, client }] of members.entries()) {
      const welcome = welcomeOf(client);
      expect(welcome.seq).toBe(seq);
      expect(welcome.actor).toEqual({ type: 'user', id: t.userIds[who], role: who });
      // Those who reconnected before it are its peers (in no particular order), each with its own actor.
      const byConnection = (a: { connectionId: string }, b: { connectionId: string }) =>
        a.connectionId.localeCompare(b.connectionId);
      expect([...(welcome.peers as { connectionId: string }[])].sort(byConnection)).toEqual(
        members
          .slice(0, index)
          .map((m) => ({
            connectionId: welcomeOf(m.client).connectionId as string,
            actor: { type: 'user', id: t.userIds[m.who], role: m.who },
          }))
          .sort(byConnection),
      );
    }
    seq = await publishRound(members, 3, seq);
    // Three rounds, each numbered on from the last: nothing repeated or skipped across the restarts.
    expect(seq).toBe(start + 3 * publishers(members).length * PER_PUBLISHER);
    expect(await room(documentId).stats()).toMatchObject({ connections: roles.length, seq });
    for (const { client } of members) client.ws.close(1000);
  });
});
