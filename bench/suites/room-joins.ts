/**
 * Room joins: how long filling a room takes until presence has settled, that is until every socket
 * knows exactly every other (its `welcome` peers, then every `joined`/`left`/`presence` frame, checked
 * against the ids the room handed out). 16 connection attempts in flight, `ws` clients in this process.
 *
 * - `rooms.join_1000_s`: 1,000 sockets into Signet's room (every upgrade verified: token, `rooms:join`,
 *   the document read from the database), the median of `JOIN_ROUNDS` fills;
 * - `rooms.join_1000_vs_partyserver_ratio`: the same fill of PartyServer's presence room
 *   (`bench/workers/partyserver`, PresenceRoom: no authentication, every join announced to every
 *   connection) on the same runtime, alternating fill by fill; the median of PartyServer's time ÷
 *   Signet's, so ≥ 1 means Signet fills at least as fast;
 * - `rooms.join_per_socket_growth`: Signet's time per join in a room of 1,000 ÷ in a room of 100.
 */
import type WebSocket from 'ws';
import { sleep } from '../lib/processes.ts';
import { atLeast, atMost, type Results, report } from '../lib/results.ts';
import {
  alternating,
  CONNECT_CONCURRENCY,
  createDocument,
  inFlight,
  opened,
  uncompressedSocket,
} from '../lib/rooms.ts';
import type { Server, SignetServer } from '../lib/servers.ts';
import { median, round } from '../lib/stats.ts';

const JOIN_ROUNDS = 3;
const SMALL_ROUNDS = 3;

interface JoinTarget {
  readonly name: string;
  /** A fresh, empty room each time. */
  room(): Promise<(index: number) => WebSocket>;
}

interface View {
  self: string | null;
  peers: Set<string>;
}

/** Fills a fresh room with `size` sockets; resolves with the seconds until presence settled exactly. */
export async function fillUntilSettled(target: JoinTarget, size: number, timeoutMs = 240_000): Promise<number> {
  const open = await target.room();
  const sockets: WebSocket[] = [];
  const views: View[] = [];
  let failure: string | undefined;
  const started = performance.now();
  const connectOne = async (index: number) => {
    const ws = open(index);
    const view: View = { self: null, peers: new Set() };
    views[index] = view;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Binary frames are the document's Yjs sync (SPEC §4.1): not presence.
      if (!isBinary) apply(view, JSON.parse(data.toString()) as Frame);
    });
    ws.on('error', () => {});
    await opened(ws, target.name).catch((error: Error) => {
      failure ??= error.message;
    });
    ws.on('close', (code: number) => {
      if (sockets.includes(ws)) failure ??= `${target.name}: a socket closed (${code})`;
    });
    sockets.push(ws);
  };
  try {
    await inFlight(size, connectOne, { stop: () => failure !== undefined });
    const deadline = started + timeoutMs;
    for (;;) {
      if (failure) throw new Error(failure);
      if (views.every((v) => v.self !== null && v.peers.size === size - 1)) break;
      if (performance.now() > deadline) throw new Error(`${target.name}: presence did not settle for ${size} sockets`);
      await sleep(5);
    }
    const seconds = (performance.now() - started) / 1000;
    // Exact, not just the right count: every socket knows precisely the others.
    const everyone = views.map((v) => v.self!);
    for (const view of views) {
      for (const id of everyone) {
        if (id !== view.self && !view.peers.has(id)) throw new Error(`${target.name}: a socket misses a peer`);
      }
    }
    return seconds;
  } finally {
    const all = sockets.splice(0);
    for (const ws of all) ws.terminate();
    await sleep(500);
  }
}

type Frame = {
  type: string;
  connectionId?: string;
  peers?: { connectionId: string }[];
  joined?: { connectionId: string }[];
  left?: { connectionId: string }[];
};

function apply(view: View, frame: Frame): void {
  switch (frame.type) {
    case 'welcome':
      view.self = frame.connectionId ?? null;
      for (const p of frame.peers ?? []) view.peers.add(p.connectionId);
      break;
    case 'joined':
      view.peers.add(frame.connectionId!);
      break;
    case 'left':
      view.peers.delete(frame.connectionId!);
      break;
    case 'presence':
      for (const p of frame.left ?? []) view.peers.delete(p.connectionId);
      for (const p of frame.joined ?? []) view.peers.add(p.connectionId);
      break;
  }
}

export function signetJoins(signet: SignetServer): JoinTarget {
  return {
    name: 'signet',
    async room() {
      const editor = await signet.token('editor');
      const viewer = await signet.token('viewer');
      const documentId = await createDocument(signet, 'Bench: joins');
      const url = `${signet.base.replace('http:', 'ws:')}/v1/rooms/${documentId}`;
      return (index) => uncompressedSocket(url, index % 2 ? viewer : editor);
    },
  };
}

function partyJoins(party: Server): JoinTarget {
  let rooms = 0;
  return {
    name: 'partyserver',
    async room() {
      const url = `${party.base.replace('http:', 'ws:')}/parties/presence-room/joins-${Date.now()}-${rooms++}`;
      return () => uncompressedSocket(url);
    },
  };
}

export async function benchRoomJoins(results: Results, signet: SignetServer, party: Server): Promise<void> {
  const ours = signetJoins(signet);
  const theirs = partyJoins(party);
  // Warm-up, not counted: JIT, the first document reads, both Workers' first rooms.
  await fillUntilSettled(ours, 50);
  await fillUntilSettled(theirs, 50);
  const small: number[] = [];
  for (let i = 0; i < SMALL_ROUNDS; i++) small.push(await fillUntilSettled(ours, 100));
  const { ours: signetTimes, theirs: partyTimes } = await alternating(
    JOIN_ROUNDS,
    () => fillUntilSettled(ours, 1000),
    () => fillUntilSettled(theirs, 1000),
    (a, b) =>
      console.log(`bench: rooms: 1,000 joins settled in ${round(a, 2)} s (Signet), ${round(b, 2)} s (PartyServer)`),
  );
  const ratios = signetTimes.map((a, i) => partyTimes[i]! / a);
  const join1000 = median(signetTimes);
  results.add(
    'rooms.join_1000_s',
    round(join1000, 2),
    's',
    report,
    `median of ${JOIN_ROUNDS} fills, ${CONNECT_CONCURRENCY} in flight, until every socket knows exactly every other`,
  );
  results.addRuns(
    'rooms.join_1000_vs_partyserver_ratio',
    ratios,
    'ratio',
    atLeast(1.0),
    `PartyServer's time ÷ Signet's, median of ${JOIN_ROUNDS} alternating pairs (PartyServer ${round(median(partyTimes), 2)} s)`,
  );
  const perJoinSmall = median(small) / 100;
  // Each fill of 1,000 against the median fill of 100: the spread is the large rooms' (the small ones are
  // three fills of a tenth of the time).
  results.addRuns(
    'rooms.join_per_socket_growth',
    signetTimes.map((t) => t / 1000 / perJoinSmall),
    'ratio',
    atMost(1.2),
    `per join ${round((join1000 / 1000) * 1000, 2)} ms at 1,000 ÷ ${round(perJoinSmall * 1000, 2)} ms at 100 (median of ${SMALL_ROUNDS})`,
  );
}
