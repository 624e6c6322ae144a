/**
 * Room fan-out: one room, N sockets (`ws` clients in this process), 4 of them (editors) publishing. A
 * round is a burst of 100 `publish` frames, 25 from each publisher sent back to back (under the
 * per-connection burst of 30, so no frame is refused); it ends when every socket, publishers included,
 * has received all 100 messages.
 *
 * - deliveries/s: messages received by all sockets ÷ (last receipt − first send);
 * - latency: receipt − send of each delivery; p99 per round.
 *
 * Signet's room (`GET /v1/rooms/:documentId`: verified admission, per-frame authorization, persisted
 * `seq`) and a PartyServer room (`bench/workers/partyserver`) run on the same `wrangler dev` runtime
 * with the same sockets and the same bursts, alternating round by round; figures are medians of rounds.
 */
import type WebSocket from 'ws';
import { sleep } from '../lib/processes.ts';
import { atLeast, type Results, report } from '../lib/results.ts';
import { alternating, createDocument, inFlight, opened, type Target, uncompressedSocket } from '../lib/rooms.ts';
import type { Server, SignetServer } from '../lib/servers.ts';
import { median, percentile, round } from '../lib/stats.ts';

/** Frames each publisher sends back to back in a burst: under the per-connection burst of 30. */
const BURST = 25;
/** Publishing sockets (editors), each with its own token bucket: 100 messages a burst. */
const PUBLISHERS = 4;
const ROUNDS = 9;
/** Between two bursts of one room: each publisher's token bucket (15 frames/s) refills to its burst of 30. */
const BURST_GAP_MS = 2_500;
/** `{"type":"m…`: the 10th byte tells a `message` frame from presence (`joined`, `left`, `welcome`). */
const TYPE_INITIAL = 9;
const M = 'm'.charCodeAt(0);
const E = 'e'.charCodeAt(0);

interface Round {
  deliveriesPerSecond: number;
  p99: number;
  p50: number;
}

/** N sockets in one room, counting the deliveries of the current burst. */
class FanOut {
  readonly #sockets: WebSocket[] = [];
  readonly #publishers: WebSocket[] = [];
  #burst = 0;
  #sentAt: number[] = [];
  #latencies: number[] = [];
  #delivered = 0;
  #expected = 0;
  #lastDelivery = 0;
  #lastFrame = 0;
  #lastBurst = 0;
  #refused: string | undefined;
  #done: (() => void) | undefined;

  readonly target: Target;

  constructor(target: Target) {
    this.target = target;
  }

  async fill(size: number): Promise<void> {
    await inFlight(size, async (index) => {
      const ws = this.target.open(index < PUBLISHERS ? 'publisher' : 'receiver');
      await opened(ws, this.target.name);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // Binary frames are the document's Yjs sync (SPEC §4.1), not room messages.
        if (!isBinary) this.#onFrame(data);
      });
      ws.on('close', (code: number) => {
        if (this.#sockets.includes(ws)) this.#refused ??= `a socket closed (${code})`;
      });
      ws.on('error', () => {});
      if (index < PUBLISHERS) this.#publishers.push(ws);
      this.#sockets.push(ws);
    });
    // Presence traffic (every join is announced to every socket) settles before anything is timed.
    await this.#quiet(1_000, 120_000);
  }

  async #quiet(forMs: number, atMostMs: number): Promise<void> {
    const deadline = performance.now() + atMostMs;
    this.#lastFrame = performance.now();
    while (performance.now() - this.#lastFrame < forMs && performance.now() < deadline) await sleep(100);
  }

  #onFrame(data: Buffer): void {
    const now = performance.now();
    this.#lastFrame = now;
    if (data[TYPE_INITIAL] === E) {
      // An `error` frame (e.g. RATE_LIMITED): the bench overloaded the room's limits and must say so.
      this.#refused ??= (JSON.parse(data.toString()) as { code?: string }).code ?? 'error';
      return;
    }
    if (data[TYPE_INITIAL] !== M) return;
    const frame = JSON.parse(data.toString()) as { type: string; data?: { b?: number; i?: number } };
    if (frame.type !== 'message' || frame.data?.b !== this.#burst || typeof frame.data.i !== 'number') return;
    this.#latencies.push(now - this.#sentAt[frame.data.i]!);
    this.#delivered += 1;
    this.#lastDelivery = now;
    if (this.#delivered === this.#expected) this.#done?.();
  }

  async burst(timeoutMs = 30_000): Promise<Round> {
    if (this.#publishers.length === 0) throw new Error('fill the room first');
    const wait = this.#lastBurst + BURST_GAP_MS - performance.now();
    if (wait > 0) await sleep(wait);
    this.#burst += 1;
    this.#sentAt = [];
    this.#latencies = [];
    this.#delivered = 0;
    const messages = BURST * this.#publishers.length;
    this.#expected = messages * this.#sockets.length;
    const finished = new Promise<void>((resolve) => {
      this.#done = resolve;
    });
    const first = performance.now();
    for (let i = 0; i < messages; i++) {
      this.#sentAt[i] = performance.now();
      const publisher = this.#publishers[i % this.#publishers.length]!;
      publisher.send(JSON.stringify({ type: 'publish', data: { b: this.#burst, i } }));
    }
    const timedOut = await Promise.race([finished.then(() => false), sleep(timeoutMs).then(() => true)]);
    this.#done = undefined;
    this.#lastBurst = performance.now();
    if (this.#refused) throw new Error(`${this.target.name}: ${this.#refused} during a burst`);
    if (timedOut) {
      throw new Error(`${this.target.name}: ${this.#delivered} of ${this.#expected} deliveries within ${timeoutMs} ms`);
    }
    return {
      deliveriesPerSecond: this.#delivered / ((this.#lastDelivery - first) / 1000),
      p99: percentile(this.#latencies, 99),
      p50: percentile(this.#latencies, 50),
    };
  }

  close(): void {
    this.#publishers.length = 0;
    const sockets = this.#sockets.splice(0);
    for (const ws of sockets) ws.terminate();
  }
}

async function signetRoom(signet: SignetServer, sockets: number): Promise<Target> {
  const documentId = await createDocument(signet, `Bench: fan-out to ${sockets}`);
  const url = `${signet.base.replace('http:', 'ws:')}/v1/rooms/${documentId}`;
  const editor = await signet.token('editor');
  const viewer = await signet.token('viewer');
  return {
    name: 'signet',
    open: (role) => uncompressedSocket(url, role === 'publisher' ? editor : viewer),
  };
}

function partyRoom(party: Server, sockets: number): Target {
  const url = `${party.base.replace('http:', 'ws:')}/parties/fanout-room/fanout-${sockets}-${Date.now()}`;
  return { name: 'partyserver', open: () => uncompressedSocket(url) };
}

interface Comparison {
  ours: Round[];
  theirs: Round[];
  ratios: number[];
}

async function compare(signet: SignetServer, party: Server, sockets: number): Promise<Comparison> {
  const ours = new FanOut(await signetRoom(signet, sockets));
  const theirs = new FanOut(partyRoom(party, sockets));
  try {
    let started = performance.now();
    await ours.fill(sockets);
    console.log(`bench: rooms: ${sockets} sockets in Signet's room (${Math.round(performance.now() - started)} ms)`);
    started = performance.now();
    await theirs.fill(sockets);
    console.log(
      `bench: rooms: ${sockets} sockets in the PartyServer room (${Math.round(performance.now() - started)} ms)`,
    );
    // Warm-up round each (JIT, first storage write), not counted.
    await ours.burst();
    await theirs.burst();
    const rounds = await alternating(
      ROUNDS,
      () => ours.burst(),
      () => theirs.burst(),
    );
    const ratios = rounds.ours.map((a, i) => a.deliveriesPerSecond / rounds.theirs[i]!.deliveriesPerSecond);
    return { ...rounds, ratios };
  } finally {
    ours.close();
    theirs.close();
  }
}

export async function benchRooms(
  results: Results,
  signet: SignetServer,
  party: Server,
  sizes: readonly number[] = [100, 1000],
): Promise<void> {
  for (const sockets of sizes) {
    const { ours, theirs, ratios } = await compare(signet, party, sockets);
    const oursRate = Math.round(median(ours.map((r) => r.deliveriesPerSecond)));
    const theirsRate = Math.round(median(theirs.map((r) => r.deliveriesPerSecond)));
    const how = `${ROUNDS} alternating bursts of ${PUBLISHERS} × ${BURST} messages to ${sockets} sockets`;
    results.add(`rooms.fanout_${sockets}_deliveries_per_s`, oursRate, 'deliveries/s', report, `median of ${how}`);
    results.add(
      `rooms.fanout_${sockets}_p99_ms`,
      round(median(ours.map((r) => r.p99)), 1),
      'ms',
      report,
      `p50 ${round(median(ours.map((r) => r.p50)), 1)} ms; PartyServer p99 ${round(median(theirs.map((r) => r.p99)), 1)} ms`,
    );
    results.add(
      `rooms.partyserver_fanout_${sockets}_deliveries_per_s`,
      theirsRate,
      'deliveries/s',
      report,
      `median of ${how}`,
    );
    results.addRuns(
      sockets === 1000 ? 'rooms.fanout_vs_partyserver_ratio' : `rooms.fanout_${sockets}_vs_partyserver_ratio`,
      ratios,
      'ratio',
      atLeast(1.0),
      `median of ${ROUNDS} per-round ratios, ${sockets} sockets`,
    );
  }
}
