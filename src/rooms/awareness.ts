/**
 * Server-stamped awareness (SPEC §4.1): who is in the document and where their cursor is, as Yjs
 * awareness entries — each bound to one connection and stamped with that connection's actor.
 *
 * Owns: the binding (a connection speaks for the first Yjs client id it sends awareness for, and only for
 * it; a client id already bound to another connection is refused), echoes (a stock provider sends back the
 * states it receives: an entry no newer than the room's is not a change, and is ignored), stamping (`signet` is set to the
 * connection's actor view, every other field passes through), and the room's current states for a
 * joining socket. States live in memory and in each connection's attachment, so they survive hibernation.
 *
 * Doesn't own: sending frames (room.ts), the awareness wire format (yjs-frames.ts).
 */
import type { RoomActorView } from './protocol.ts';
import type { AwarenessEntry } from './yjs-frames.ts';

/** A stamped state's JSON at most this long (it is kept in the socket's attachment, 16 KiB in all). */
export const MAX_AWARENESS_STATE_BYTES = 8 * 1024;

/** A connection's awareness as its attachment keeps it: the entry as it travels, its state stamped. */
export type ConnectionAwareness = AwarenessEntry;

export type Stamped =
  | { readonly ok: true; readonly entry: ConnectionAwareness }
  | { readonly ok: false; readonly reason: 'other-client' | 'taken' | 'malformed' | 'stale' };

const encoder = new TextEncoder();

export class RoomAwareness {
  /** client id → the connection bound to it and its latest entry. */
  readonly #entries = new Map<number, { connectionId: string; entry: ConnectionAwareness }>();

  /** Restores a connection's entry (wake-up from hibernation). */
  restore(connectionId: string, entry: ConnectionAwareness): void {
    this.#entries.set(entry.clientId, { connectionId, entry });
  }

  /**
   * Checks and stamps one entry sent by a connection, bound to `bound` (its client id, or undefined before its
   * first entry). Applies it when it is accepted.
   */
  stamp(connectionId: string, bound: number | undefined, sent: AwarenessEntry, view: RoomActorView): Stamped {
    const holder = this.#entries.get(sent.clientId);
    if (holder && holder.connectionId !== connectionId) {
      // Stock providers (y-websocket) send back every state they receive, at the clock they received
      // it: an echo changes nothing and is ignored; only a newer entry for another connection is refused.
      return sent.clock <= holder.entry.clock ? { ok: false, reason: 'stale' } : { ok: false, reason: 'taken' };
    }
    if (holder && sent.clock <= holder.entry.clock) return { ok: false, reason: 'stale' };
    // The echo of a removal the room announced itself: nothing to remove, nothing to bind.
    if (!holder && sent.state === 'null') return { ok: false, reason: 'stale' };
    if (bound !== undefined && sent.clientId !== bound) return { ok: false, reason: 'other-client' };
    let state: string;
    if (sent.state === 'null') {
      state = 'null';
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(sent.state);
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        return { ok: false, reason: 'malformed' };
      state = JSON.stringify({ ...parsed, signet: view });
      if (encoder.encode(state).byteLength > MAX_AWARENESS_STATE_BYTES) return { ok: false, reason: 'malformed' };
    }
    const entry = { clientId: sent.clientId, clock: sent.clock, state };
    this.#entries.set(sent.clientId, { connectionId, entry });
    return { ok: true, entry };
  }

  /** A closed connection's state, removed; the entry that tells everyone (or null when it had none). */
  remove(clientId: number | undefined): AwarenessEntry | null {
    if (clientId === undefined) return null;
    const holder = this.#entries.get(clientId);
    if (!holder) return null;
    this.#entries.delete(clientId);
    return { clientId, clock: holder.entry.clock + 1, state: 'null' };
  }

  /** The room's current states, for a joining socket. */
  current(): AwarenessEntry[] {
    const states: AwarenessEntry[] = [];
    for (const { entry } of this.#entries.values()) if (entry.state !== 'null') states.push(entry);
    return states;
  }
}
