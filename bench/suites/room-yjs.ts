/**
 * Collaborative documents (SPEC §4.1):
 *
 * - `rooms.yjs_fanout_vs_ypartyserver_ratio`: one room of 100 sockets, 4 editors each sending a burst of 25
 *   Yjs updates back to back (one character typed each, as a provider sends them); a round ends when every
 *   other socket (the 96 viewers) has received all 100 updates. Signet's room authorizes every update
 *   (`documents:write` from the restored actor), checks it against the caps and persists it to SQLite
 *   before relaying; the comparison is y-partyserver's stock `YServer` (`bench/workers/partyserver`,
 *   in memory, no authorization) on the same `wrangler dev` runtime, same sockets, alternating round by
 *   round; the ratio is of deliveries per second, median of rounds.
 * - `rooms.yjs_update_us`: CPU per applied update of the room's write path (decode checks, caps, apply,
 *   persist), measured in this Node process on the room's own `SharedDocument` over `node:sqlite` (the same
 *   SQLite the Durable Object uses; workerd's clocks don't advance during a synchronous call, so it can't be
 *   timed inside the object), next to `Y.applyUpdate` with an update listener on an in-memory document
 *   (what y-partyserver's YServer runs per update).
 */
import { DatabaseSync } from 'node:sqlite';
import type WebSocket from 'ws';
import * as Y from 'yjs';
import { SharedDocument, type Sql } from '../../src/rooms/shared-document.ts';
import { encodeUpdate } from '../../src/rooms/yjs-frames.ts';
import { sleep } from '../lib/processes.ts';
import { atLeast, type Results, report, spreadOf } from '../lib/results.ts';
import { alternating, createDocument, inFlight, opened, type Target, uncompressedSocket } from '../lib/rooms.ts';
import type { Server, SignetServer } from '../lib/servers.ts';
import { median, round } from '../lib/stats.ts';

const SOCKETS = 100;
const PUBLISHERS = 4;
/** Updates per publisher per burst: 6.25 of the connection's 30 rate tokens (a binary frame costs ¼). */
const PER_PUBLISHER = 25;
const ROUNDS = 7;
const BURST_GAP_MS = 1_000;

/** A y-websocket update frame starts with 0 (sync), 2 (update). */
const isUpdate = (data: Buffer) => data[0] === 0 && data[1] === 2;

class YjsFanOut {
  readonly #receivers: WebSocket[] = [];
  readonly #publishers: { ws: WebSocket; doc: Y.Doc }[] = [];
  #counts = new Map<WebSocket, number>();
  #expected = 0;
  #complete = 0;
  #lastDelivery = 0;
  #done: (() => void) | undefined;
  #failure: string | undefined;
  readonly target: Target;

  constructor(target: Target) {
    this.target = target;
  }

  async fill(): Promise<void> {
    await inFlight(SOCKETS, async (index) => {
      const publisher = index < PUBLISHERS;
      const ws = this.target.open(publisher ? 'publisher' : 'receiver');
      await opened(ws, this.target.name);
      ws.on('close', (code: number) => {
        this.#failure ??= `a socket closed (${code})`;
      });
      if (publisher) {
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary && data.includes('"error"')) this.#failure ??= data.toString();
        });
        this.#publishers.push({ ws, doc: new Y.Doc() });
      } else {
        this.#receivers.push(ws);
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary || !isUpdate(data)) return;
          const count = (this.#counts.get(ws) ?? 0) + 1;
          this.#counts.set(ws, count);
          if (count === this.#expected) {
            this.#complete += 1;
            this.#lastDelivery = performance.now();
            if (this.#complete === this.#receivers.length) this.#done?.();
          }
        });
      }
    });
  }

  /** One burst; deliveries per second to the receivers. */
  async burst(timeoutMs = 30_000): Promise<number> {
    await sleep(BURST_GAP_MS);
    // The frames are made before the clock starts: only the rooms' work is timed.
    const frames = this.#publishers.map(({ doc }) => {
      const out: Uint8Array[] = [];
      const listen = (update: Uint8Array) => out.push(encodeUpdate(update));
      doc.on('update', listen);
      for (let i = 0; i < PER_PUBLISHER; i++) doc.getText('body').insert(0, 'x');
      doc.off('update', listen);
      return out;
    });
    this.#counts = new Map();
    this.#complete = 0;
    this.#expected = PUBLISHERS * PER_PUBLISHER;
    const finished = new Promise<void>((resolve) => {
      this.#done = resolve;
    });
    const first = performance.now();
    for (let i = 0; i < PER_PUBLISHER; i++) {
      for (let p = 0; p < PUBLISHERS; p++) this.#publishers[p]!.ws.send(frames[p]![i]!);
    }
    const timedOut = await Promise.race([finished.then(() => false), sleep(timeoutMs).then(() => true)]);
    this.#done = undefined;
    if (this.#failure) throw new Error(`${this.target.name}: ${this.#failure}`);
    if (timedOut)
      throw new Error(`${this.target.name}: ${this.#complete} of ${this.#receivers.length} receivers complete`);
    return (this.#expected * this.#receivers.length) / ((this.#lastDelivery - first) / 1000);
  }

  close(): void {
    for (const ws of [...this.#receivers, ...this.#publishers.map((p) => p.ws)]) ws.terminate();
  }
}

async function signetRoom(signet: SignetServer): Promise<Target> {
  const documentId = await createDocument(signet, 'Bench: Yjs fan-out');
  const url = `${signet.base.replace('http:', 'ws:')}/v1/rooms/${documentId}`;
  const editor = await signet.token('editor');
  const viewer = await signet.token('viewer');
  return {
    name: 'signet',
    open: (role) => uncompressedSocket(url, role === 'publisher' ? editor : viewer),
  };
}

function yPartyRoom(party: Server): Target {
  const url = `${party.base.replace('http:', 'ws:')}/parties/y-room/yjs-${Date.now()}`;
  return { name: 'y-partyserver', open: () => uncompressedSocket(url) };
}

/** `SqlStorage` over node:sqlite, as much of it as `SharedDocument` uses. */
function sqlStorage(db: DatabaseSync): Sql {
  const cursor = (rows: Record<string, unknown>[]) =>
    Object.assign(rows[Symbol.iterator].bind(rows), {
      [Symbol.iterator]: () => rows[Symbol.iterator](),
      one: () => rows[0],
      toArray: () => rows,
    });
  // Prepared once per query text, as the Durable Object's SqlStorage caches its statements.
  const prepared = new Map<string, ReturnType<DatabaseSync['prepare']>>();
  return {
    exec(query: string, ...bindings: unknown[]) {
      if (bindings.length === 0 && query.includes(';')) {
        db.exec(query);
        return cursor([]);
      }
      let statement = prepared.get(query);
      if (!statement) {
        statement = db.prepare(query);
        prepared.set(query, statement);
      }
      const values = bindings as (string | number | Uint8Array | null)[];
      const returnsRows = /^\s*select|returning/i.test(query);
      if (returnsRows) return cursor(statement.all(...values) as Record<string, unknown>[]);
      statement.run(...values);
      return cursor([]);
    },
  } as unknown as Sql;
}

function updateCost(): { ours: number; bare: number } {
  const writer = new Y.Doc();
  const updates: Uint8Array[] = [];
  writer.on('update', (update: Uint8Array) => updates.push(update));
  writer.getText('body').insert(0, 'a'.repeat(2_000));
  for (let i = 0; i < 3_000; i++) writer.getText('body').insert(1_000 + (i % 500), 'x');
  const initial = updates.shift()!;
  const editor = { principal: { type: 'user', id: 'bench' }, onBehalfOf: null };

  const shared = SharedDocument.create(sqlStorage(new DatabaseSync(':memory:')), '', 1);
  shared.apply(initial, null, editor);
  let started = performance.now();
  for (const update of updates) {
    if (shared.refusal(update) !== null) throw new Error('refused');
    shared.apply(update, null, editor);
    encodeUpdate(update);
  }
  const ours = ((performance.now() - started) * 1000) / updates.length;

  // What y-partyserver's YServer runs per update: apply, with an update listener (which makes Yjs encode it).
  const bare = new Y.Doc();
  Y.applyUpdate(bare, initial);
  bare.on('update', (update: Uint8Array) => encodeUpdate(update));
  started = performance.now();
  for (const update of updates) Y.applyUpdate(bare, update);
  return { ours, bare: ((performance.now() - started) * 1000) / updates.length };
}

export async function benchRoomYjs(results: Results, signet: SignetServer, party: Server): Promise<void> {
  const costs = [updateCost(), updateCost(), updateCost()];
  results.add(
    'rooms.yjs_update_us',
    round(median(costs.map((c) => c.ours)), 1),
    'µs',
    report,
    `per applied update (checks, caps, apply, SQLite row, frame), median of 3 × 3,000; Y.applyUpdate with an update listener (y-partyserver's path) ${round(median(costs.map((c) => c.bare)), 1)} µs`,
  );

  const ours = new YjsFanOut(await signetRoom(signet));
  const theirs = new YjsFanOut(yPartyRoom(party));
  try {
    await ours.fill();
    await theirs.fill();
    await ours.burst();
    await theirs.burst();
    const rates = await alternating(
      ROUNDS,
      () => ours.burst(),
      () => theirs.burst(),
    );
    const ratios = rates.ours.map((a, i) => a / rates.theirs[i]!);
    results.add(
      'rooms.yjs_fanout_vs_ypartyserver_ratio',
      round(median(ratios), 3),
      'ratio',
      atLeast(1.0),
      `median of ${ROUNDS} alternating bursts of ${PUBLISHERS} × ${PER_PUBLISHER} updates to ${SOCKETS} sockets; ` +
        `Signet ${Math.round(median(rates.ours))}/s, y-partyserver ${Math.round(median(rates.theirs))}/s deliveries`,
      spreadOf(ratios, atLeast(1.0)),
    );
  } finally {
    ours.close();
    theirs.close();
  }
}
