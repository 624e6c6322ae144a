/**
 * The rooms of one organization that currently have connections: one Durable Object per organization.
 * Rooms register when their first connection arrives and unregister when the last one leaves, so that
 * revoking an actor (member removed, role changed, API key revoked) reaches exactly the rooms where it
 * may be connected, without scanning every document.
 *
 * It also remembers the organization's revocations of the last hour (the longest token lifetime), and
 * hands them to every room that registers: a room that had no connection when an actor was revoked
 * heard nothing of it, yet a Worker whose revocation list is up to 30 s old may still admit that actor
 * there — the room refuses it all the same (an outside review found such a socket kept until its token
 * expired).
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { actorTag } from './attachment.ts';

/** A revocation as rooms apply it: the revoked link's tag and when, in milliseconds. */
export interface Denial {
  tag: string;
  at: number;
}

/** Every token of the organization issued before it (the organization closed: deleted, or being deleted). */
export const ORGANIZATION_TAG = 'organization';

/** How long a revocation is remembered: the longest token lifetime (SPEC §2: 1 h). */
const DENY_FOR_MS = 3_600_000;

/**
 * The revocations of the last hour kept in a Durable Object's storage (`denied:<tag>` → ms), the registry's
 * and each room's alike; older ones refuse nothing (no token issued before them is alive) and are deleted,
 * 128 at a time.
 */
export async function liveDenials(storage: DurableObjectStorage): Promise<Denial[]> {
  const since = Date.now() - DENY_FOR_MS;
  const denials: Denial[] = [];
  const expired: string[] = [];
  for (const [key, at] of await storage.list<number>({ prefix: 'denied:' })) {
    if (at > since) denials.push({ tag: key.slice('denied:'.length), at });
    else expired.push(key);
  }
  if (expired.length > 0) await storage.delete(expired.slice(0, 128));
  return denials;
}

export class OrgRooms extends DurableObject<Env> {
  /** Lists the room and answers the revocations it must apply before admitting anyone. */
  async register(roomId: string): Promise<Denial[]> {
    await this.ctx.storage.put(`room:${roomId}`, true);
    return liveDenials(this.ctx.storage);
  }

  async unregister(roomId: string): Promise<void> {
    await this.ctx.storage.delete(`room:${roomId}`);
  }

  async rooms(): Promise<string[]> {
    const entries = await this.ctx.storage.list({ prefix: 'room:' });
    return [...entries.keys()].map((key) => key.slice('room:'.length));
  }

  /**
   * Closes the actor's connections in every active room of the organization; returns how many. Tokens
   * issued up to `at` (the revocation's database time, ms) are refused from then on.
   */
  async revokeActor(type: 'user' | 'service' | 'agent', id: string, at: number): Promise<number> {
    // Remembered before the rooms are listed: a room registering from here on is handed it.
    await this.#deny(actorTag(type, id), at);
    return this.#inEveryRoom((room) => room.revokeActor(type, id, at));
  }

  /**
   * Closes every connection in every active room of the organization (organization deletion); with
   * `refuseUntil` (ms, once the organization's tokens are revoked), no room admits a token issued up to then.
   */
  async closeAll(code: number, reason: string, refuseUntil: number | null): Promise<number> {
    if (refuseUntil !== null) await this.#deny(ORGANIZATION_TAG, refuseUntil);
    return this.#inEveryRoom((room) => room.closeAll(code, reason, refuseUntil));
  }

  /** Calls every listed room at once; the connections they closed, summed. */
  async #inEveryRoom(call: (room: ReturnType<Env['ROOMS']['get']>) => Promise<number>): Promise<number> {
    const rooms = (await this.rooms()).map((roomId) => this.env.ROOMS.get(this.env.ROOMS.idFromName(roomId)));
    const closed = await Promise.all(rooms.map(call));
    return closed.reduce((sum, n) => sum + n, 0);
  }

  /** Remembers a revocation, the latest per link (a retried push doesn't move it). */
  async #deny(tag: string, at: number): Promise<void> {
    const known = await this.ctx.storage.get<number>(`denied:${tag}`);
    if (known === undefined || known < at) await this.ctx.storage.put(`denied:${tag}`, at);
  }
}
