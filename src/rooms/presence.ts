/**
 * Coalesced presence (SPEC §4): the joins and leaves of up to `PRESENCE_WINDOW_MS` go out as one frame
 * per socket, so that filling a room of n sockets sends about n × (batches) frames instead of n²/2.
 * Presence stays exact: a socket that joined during the batch already holds, from its `welcome`,
 * everything before its own join, so it is told only what happened after it (`since`); everyone else
 * is told the batch's net change (a join and a leave of the same connection cancel out).
 *
 * Doesn't own: who is in the room (the room's index) or sending (the room); this module only keeps
 * the batch's ordered log and turns it into frames. A batch is one or two frames' worth of text for
 * everyone plus one small personal frame per newcomer: O(n + newcomers × batch), not O(n × batch).
 */

/** SPEC §4: the server may batch presence changes of up to 100 ms into one frame. */
export const PRESENCE_WINDOW_MS = 100;

/** A peer as JSON, `{"connectionId":…,"actor":…}`, serialized once when it joins. */
export interface PresenceEntry {
  readonly connectionId: string;
  readonly json: string;
}

interface Change {
  readonly joined: boolean;
  readonly entry: PresenceEntry;
}

export class PresenceBatch {
  readonly #log: Change[] = [];
  /** Newcomers of this batch → the position of their own join in the log. */
  readonly #newcomers = new Map<string, number>();

  get pending(): boolean {
    return this.#log.length > 0;
  }

  join(entry: PresenceEntry): void {
    this.#newcomers.set(entry.connectionId, this.#log.length);
    this.#log.push({ joined: true, entry });
  }

  leave(entry: PresenceEntry): void {
    this.#newcomers.delete(entry.connectionId);
    this.#log.push({ joined: false, entry });
  }

  /**
   * Ends the batch: `frameFor(connectionId)` gives the frame text that connection must receive (or
   * `null` when nothing changed for it). Call it for every open connection, then drop it.
   */
  take(): (connectionId: string) => string | null {
    const log = this.#log.splice(0);
    const newcomers = new Map(this.#newcomers);
    this.#newcomers.clear();
    const everyone = frameOf(log, 0, null);
    return (connectionId) => {
      const at = newcomers.get(connectionId);
      return at === undefined ? everyone : frameOf(log, at + 1, connectionId);
    };
  }
}

/** The net change of `log[from…]` as a frame: `joined`/`left` for a single change, else `presence`. */
function frameOf(log: readonly Change[], from: number, self: string | null): string | null {
  const joined = new Map<string, PresenceEntry>();
  const left = new Map<string, PresenceEntry>();
  for (let i = from; i < log.length; i++) {
    const { joined: isJoin, entry } = log[i]!;
    if (entry.connectionId === self) continue;
    if (isJoin) joined.set(entry.connectionId, entry);
    else if (!joined.delete(entry.connectionId)) left.set(entry.connectionId, entry);
  }
  if (joined.size + left.size === 0) return null;
  if (joined.size + left.size === 1) {
    const [type, entry] = joined.size === 1 ? ['joined', [...joined.values()][0]!] : ['left', [...left.values()][0]!];
    // `{"type":"joined","connectionId":…,"actor":…}`: the entry's own fields after the type.
    return `{"type":"${type}",${entry.json.slice(1)}`;
  }
  const list = (m: Map<string, PresenceEntry>) => [...m.values()].map((e) => e.json).join(',');
  return `{"type":"presence","joined":[${list(joined)}],"left":[${list(left)}]}`;
}
