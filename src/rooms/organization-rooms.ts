/**
 * The rooms of one organization that currently have connections: one Durable Object per organization.
 * Rooms register when their first connection arrives and unregister when the last one leaves, so that
 * revoking an actor (member removed, role changed, API key revoked) reaches exactly the rooms where it
 * may be connected, without scanning every document.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';

export class OrgRooms extends DurableObject<Env> {
  async register(roomId: string): Promise<void> {
    await this.ctx.storage.put(`room:${roomId}`, true);
  }

  async unregister(roomId: string): Promise<void> {
    await this.ctx.storage.delete(`room:${roomId}`);
  }

  async rooms(): Promise<string[]> {
    const entries = await this.ctx.storage.list({ prefix: 'room:' });
    return [...entries.keys()].map((key) => key.slice('room:'.length));
  }

  /** Closes the actor's connections in every active room of the organization; returns how many. */
  async revokeActor(type: 'user' | 'service' | 'agent', id: string): Promise<number> {
    const closed = await Promise.all(
      (await this.rooms()).map((roomId) => this.env.ROOMS.get(this.env.ROOMS.idFromName(roomId)).revokeActor(type, id)),
    );
    return closed.reduce((sum, n) => sum + n, 0);
  }

  /** Closes every connection in every active room of the organization (organization deletion). */
  async closeAll(code: number, reason: string): Promise<number> {
    const closed = await Promise.all(
      (await this.rooms()).map((roomId) =>
        this.env.ROOMS.get(this.env.ROOMS.idFromName(roomId)).closeAll(code, reason),
      ),
    );
    return closed.reduce((sum, n) => sum + n, 0);
  }
}
