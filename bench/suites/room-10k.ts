/**
 * 10,000 sockets in one room (`ROOMS_10K_SOCKETS` to change), the client sharded over `SHARDS` child
 * processes (`bench/lib/room-shard.ts`), 16 joins in flight in all, connected to the Worker's workerd
 * directly (`workerEntry`: wrangler dev's proxy runs out of file descriptors first):
 *
 * 1. every socket joins through the Worker (verified, authorized) until every socket counts exactly
 *    N − 1 peers, and the sampled sockets hold exactly the others' ids;
 * 2. `BROADCASTS` messages from one editor to all: receipt − send of every delivery
 *    (`rooms.sockets_10k_broadcast_p99_ms`);
 * 3. memory: the resident memory of everything `npm run dev` runs (workerd, wrangler, the database),
 *    after the fill minus before, per socket (`rooms.sockets_10k_memory_kib_per_socket`);
 * 4. hibernation: `IDLE_MS` without a frame (the local runtime lets an idle room hibernate after
 *    10 s), then one broadcast — the room wakes up and rebuilds its index from 10,000 attachments —
 *    (`rooms.sockets_10k_wake_broadcast_p99_ms`), and one more join, which every socket must hear
 *    of while its welcome lists all 10,000.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep } from '../lib/processes.ts';
import { type Results, report } from '../lib/results.ts';
import { CONNECT_CONCURRENCY, createDocument } from '../lib/rooms.ts';
import type { SignetServer } from '../lib/servers.ts';
import { percentile, round } from '../lib/stats.ts';

const REQUESTED = Number(process.env.ROOMS_10K_SOCKETS ?? 10_000);
/** workerd holds two file descriptors per accepted WebSocket (measured: `dup(): Too many open files` at 9,702). */
const FDS_PER_SOCKET = 2;
/** What else the Worker's workerd holds open (its listening sockets, the database bridge, files). */
const FD_MARGIN = 2_000;

/**
 * The sockets one workerd process can hold on this machine: `REQUESTED`, or fewer (in thousands) where
 * the hard limit on open files says so — 20,000 on the development machine, which a container without
 * `CAP_SYS_RESOURCE` can't raise: 9,000 sockets there. `null` limit: none found.
 */
function socketsThisMachineHolds(): { sockets: number; limit: number | null } {
  let limit: number | null = null;
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim();
    limit = out === 'unlimited' ? null : Number(out);
  } catch {
    // no shell to ask: assume no limit
  }
  if (limit === null || !Number.isFinite(limit)) return { sockets: REQUESTED, limit: null };
  const fit = Math.floor((limit - FD_MARGIN) / FDS_PER_SOCKET / 1000) * 1000;
  return { sockets: Math.max(1000, Math.min(REQUESTED, fit)), limit };
}

const { sockets: SOCKETS, limit: FD_LIMIT } = socketsThisMachineHolds();
const CAPPED =
  SOCKETS < REQUESTED
    ? `; ${SOCKETS.toLocaleString('en')} of ${REQUESTED.toLocaleString('en')} sockets: this machine's hard limit of ${FD_LIMIT?.toLocaleString('en')} open files a process, at ${FDS_PER_SOCKET} a WebSocket in workerd, holds no more`
    : '';
const SHARDS = 4;
const BROADCASTS = 5;
const IDLE_MS = 15_000;

/**
 * The Worker's own workerd, past wrangler dev's proxy: the proxy holds several file descriptors per
 * WebSocket and, under this machine's limit of 20,000 a process (not raisable in the container), fails
 * upgrades with EMFILE at about 4,500 sockets. Found among the listening sockets of `npm run dev`'s
 * processes as the one that answers `GET /health` and is not the proxy's port.
 */
async function workerEntry(signet: SignetServer): Promise<string> {
  const group = execFileSync('ps', ['-o', 'pid=,args=', '-g', String(signet.child.process.pid)]).toString();
  const pids = group
    .split('\n')
    .filter((line) => line.includes('workerd') && line.includes('entry=127.0.0.1:0'))
    .map((line) => line.trim().split(/\s+/)[0]!);
  const listening = execFileSync('ss', ['-ltnpH']).toString().split('\n');
  const proxyPort = new URL(signet.base).port;
  for (const line of listening) {
    if (!pids.some((pid) => line.includes(`pid=${pid},`))) continue;
    const port = /127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    if (!port || port === proxyPort) continue;
    const base = `http://127.0.0.1:${port}`;
    try {
      const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2_000) });
      if (health.ok && ((await health.json()) as { status?: string }).status === 'ok') return base;
    } catch {
      // not the entry socket
    }
  }
  throw new Error("the Worker's workerd entry socket was not found");
}

class Shard {
  readonly #child: ChildProcess;
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    this.#child = fork(fileURLToPath(new URL('../lib/room-shard.ts', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--max-old-space-size=4096'],
    });
    this.#child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (m.error !== undefined) waiter?.reject(new Error(m.error));
      else waiter?.resolve(m.result);
    });
  }

  call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ id, op, ...args });
    });
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

/** Resident memory (KiB) of every process in the group of `npm run dev` (workerd, wrangler, database). */
function groupRssKiB(pid: number): number {
  const out = execFileSync('ps', ['-o', 'rss=', '-g', String(pid)]).toString();
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isFinite(n))
    .reduce((a, b) => a + b, 0);
}

export async function benchRooms10k(results: Results, signet: SignetServer): Promise<void> {
  const editor = await signet.token('editor');
  const viewer = await signet.token('viewer');
  const documentId = await createDocument(signet, `Bench: ${SOCKETS} sockets`);
  const entry = await workerEntry(signet);
  const url = `${entry.replace('http:', 'ws:')}/v1/rooms/${documentId}`;
  const pid = signet.child.process.pid!;
  if (CAPPED) console.log(`bench: rooms: WARNING${CAPPED}`);
  const shards = Array.from({ length: SHARDS }, () => new Shard());
  const all = <T>(op: string, args?: Record<string, unknown>) => Promise.all(shards.map((s) => s.call<T>(op, args)));
  try {
    const rssBefore = groupRssKiB(pid);
    const started = performance.now();
    const progress = setInterval(() => {
      void all<{ open: number; retried: number }>('status', { expected: -1 }).then((status) =>
        console.log(
          `bench: rooms: ${status.reduce((n, s) => n + s.open, 0)} of ${SOCKETS} sockets open (${Math.round((performance.now() - started) / 1000)} s)`,
        ),
      );
    }, 20_000);
    try {
      await all('open', {
        url,
        tokens: [editor, viewer, viewer, viewer],
        count: SOCKETS / SHARDS,
        concurrency: CONNECT_CONCURRENCY / SHARDS,
      });
    } finally {
      clearInterval(progress);
    }
    const opened = performance.now();
    console.log(`bench: rooms: ${SOCKETS} sockets open in ${Math.round((opened - started) / 1000)} s`);
    await settle(all, SOCKETS - 1, 600_000);
    const settledAt = performance.now();
    const ids = (await all<string[]>('ids')).flat();
    if (new Set(ids).size !== SOCKETS) throw new Error('connection ids are missing or repeated');
    if (!(await all<boolean>('verify', { ids })).every(Boolean)) throw new Error('a sampled socket misses a peer');
    await sleep(2_000);
    const rssAfter = groupRssKiB(pid);
    const retried = (await all<{ retried: number }>('status', { expected: -1 })).reduce((n, s) => n + s.retried, 0);
    results.add(
      'rooms.sockets_10k_join_s',
      round((settledAt - started) / 1000, 1),
      's',
      report,
      `${SOCKETS} joins (${CONNECT_CONCURRENCY} in flight, ${SHARDS} client processes) until every socket counts exactly ${SOCKETS - 1} peers; sampled sockets checked id by id; ${retried} upgrades retried after a dropped connection or a 503${CAPPED}`,
    );
    results.add(
      'rooms.sockets_10k_memory_kib_per_socket',
      round((rssAfter - rssBefore) / SOCKETS, 1),
      'KiB',
      report,
      `resident memory of npm run dev's processes (workerd, wrangler, database) after − before the fill, ÷ ${SOCKETS}`,
    );

    const broadcast = async (b: number) => {
      await shards[0]!.call('publish', { b });
      let perShard: number[] = [];
      for (let i = 0; i < 600; i++) {
        const got = await all<number[]>('latencies', { b });
        perShard = got.map((l) => l.length);
        if (got.flat().length >= SOCKETS) return got.flat();
        await sleep(100);
      }
      const status = await all<{ settled: number; failure: string | null }>('status', { expected: SOCKETS - 1 });
      throw new Error(
        `broadcast ${b} did not reach all ${SOCKETS} sockets: received per client process ${perShard.join(', ')}; ` +
          `${status.map((s) => s.failure ?? 'no failure').join('; ')}`,
      );
    };
    const latencies: number[] = [];
    for (let b = 1; b <= BROADCASTS; b++) {
      latencies.push(...(await broadcast(b)));
      await sleep(1_000);
    }
    results.add(
      'rooms.sockets_10k_broadcast_p99_ms',
      round(percentile(latencies, 99), 1),
      'ms',
      report,
      `${BROADCASTS} messages to ${SOCKETS} sockets, receipt − send of every delivery; p50 ${round(percentile(latencies, 50), 1)} ms`,
    );

    await sleep(IDLE_MS);
    const woken = await broadcast(BROADCASTS + 1);
    results.add(
      'rooms.sockets_10k_wake_broadcast_p99_ms',
      round(percentile(woken, 99), 1),
      'ms',
      report,
      `one message after ${IDLE_MS / 1000} s idle (the room hibernates, then rebuilds its index from ${SOCKETS} attachments)`,
    );
    await shards[0]!.call('join', { url, token: viewer });
    await settle(all, SOCKETS, 120_000, SOCKETS + 1);
    console.log(`bench: rooms: after the wake-up, one more join reached all ${SOCKETS} sockets`);
  } finally {
    await Promise.race([all('close'), sleep(5_000)]);
    for (const shard of shards) shard.kill();
  }
}

async function settle(
  all: <T>(op: string, args?: Record<string, unknown>) => Promise<T[]>,
  expected: number,
  timeoutMs: number,
  sockets = SOCKETS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = await all<{ settled: number; failure: string | null }>('status', { expected });
    const failure = status.find((s) => s.failure)?.failure;
    if (failure) throw new Error(failure);
    const settled = status.reduce((n, s) => n + s.settled, 0);
    if (settled >= sockets) return;
    if (performance.now() > deadline) throw new Error(`presence did not settle: ${settled} of ${sockets} sockets`);
    await sleep(500);
  }
}
