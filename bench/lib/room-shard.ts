/**
 * One shard of the 10,000-socket room bench: a child process holding its part of the sockets, so that
 * no single Node process parses every frame. Driven over IPC by `bench/suites/room-10k.ts`:
 *
 * - `open` {url, tokens, count, concurrency}: opens its sockets (one editor first, in shard 0);
 * - `status` {expected}: how many of its sockets know exactly `expected` peers;
 * - `ids`: its sockets' connection ids; `verify` {ids}: whether its sampled sockets know exactly those;
 * - `publish` {b}: the socket opened with the first token (the editor's) publishes burst `b`; `latencies` {b}: receipt − send of burst `b`;
 * - `join` {url, token}: one more socket (after a wake-up); `close`: every socket, then exit.
 *
 * Every socket counts its peers from the frames' bytes (`{"connectionId"` entries before and after
 * `"left":[`), without parsing JSON: at 10,000 sockets the presence traffic is gigabytes. One socket in
 * `SAMPLE_EVERY` also keeps the exact set of ids (JSON), for `verify`.
 */
import type WebSocket from 'ws';
import { inFlight, uncompressedSocket } from './rooms.ts';

const SAMPLE_EVERY = 250;
const ENTRY = Buffer.from('{"connectionId"');
const LEFT = Buffer.from('"left":[');
const WELCOME_ID_AT = '{"type":"welcome","connectionId":"'.length;

interface Socket {
  ws: WebSocket;
  self: string | null;
  peers: number;
  exact: Set<string> | null;
}

const sockets: Socket[] = [];
/** The socket opened with the first token (shard 0's: the editor's), which `publish` sends from. */
let publisher: Socket | undefined;
const latencies = new Map<number, number[]>();
let failure: string | null = null;

const now = () => performance.timeOrigin + performance.now();

function count(data: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = data.indexOf(ENTRY, from); i >= 0 && i < to; i = data.indexOf(ENTRY, i + ENTRY.length)) n++;
  return n;
}

function onFrame(socket: Socket, data: Buffer): void {
  const kind = String.fromCharCode(data[9]!, data[10]!);
  if (kind === 'me') {
    const frame = JSON.parse(data.toString()) as { data?: { b?: number; t?: number } };
    const b = frame.data?.b;
    if (typeof b === 'number' && typeof frame.data?.t === 'number') {
      const list = latencies.get(b) ?? [];
      latencies.set(b, list);
      list.push(now() - frame.data.t);
    }
    return;
  }
  if (kind === 'er') failure ??= `error frame: ${data.toString().slice(0, 200)}`;
  if (kind === 'we') {
    socket.self = data.toString('latin1', WELCOME_ID_AT, WELCOME_ID_AT + 36);
    socket.peers += count(data, 0, data.length);
  } else if (kind === 'jo') socket.peers += 1;
  else if (kind === 'le') socket.peers -= 1;
  else if (kind === 'pr') {
    const left = data.indexOf(LEFT);
    socket.peers += count(data, 0, left) - count(data, left, data.length);
  } else return;
  if (socket.exact) {
    const frame = JSON.parse(data.toString()) as {
      type: string;
      connectionId?: string;
      peers?: { connectionId: string }[];
      joined?: { connectionId: string }[];
      left?: { connectionId: string }[];
    };
    if (frame.type === 'welcome') for (const p of frame.peers ?? []) socket.exact.add(p.connectionId);
    if (frame.type === 'joined') socket.exact.add(frame.connectionId!);
    if (frame.type === 'left') socket.exact.delete(frame.connectionId!);
    if (frame.type === 'presence') {
      for (const p of frame.left ?? []) socket.exact.delete(p.connectionId);
      for (const p of frame.joined ?? []) socket.exact.add(p.connectionId);
    }
  }
}

/** Upgrades that failed at the transport or answered 503 and were tried again: reported with the figures. */
let retried = 0;
const ATTEMPTS = 3;

async function openOne(url: string, token: string): Promise<Socket> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openAttempt(url, token);
    } catch (error) {
      // A refusal (4xx) is a failure; a dropped connection or a 503 (SPEC §3: the database could not be
      // reached, nothing was done) is tried again, and counted.
      const message = (error as Error).message;
      const refused = message.startsWith('upgrade answered') && message !== 'upgrade answered 503';
      if (refused || attempt >= ATTEMPTS) throw error;
      retried += 1;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

function openAttempt(url: string, token: string): Promise<Socket> {
  const ws = uncompressedSocket(url, token);
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    ws.once('open', () => {
      const exact = sockets.length % SAMPLE_EVERY === 0 ? new Set<string>() : null;
      const socket: Socket = { ws, self: null, peers: 0, exact };
      sockets.push(socket);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // Binary frames are the document's Yjs sync (SPEC §4.1), not presence or messages.
        if (!isBinary) onFrame(socket, data);
      });
      ws.on('close', (code: number) => {
        if (!closing) failure ??= `a socket closed (${code})`;
      });
      resolve(socket);
    });
  });
}

let closing = false;

type Command =
  | { id: number; op: 'open'; url: string; tokens: string[]; count: number; concurrency: number }
  | { id: number; op: 'status'; expected: number }
  | { id: number; op: 'ids' }
  | { id: number; op: 'verify'; ids: string[] }
  | { id: number; op: 'publish'; b: number }
  | { id: number; op: 'latencies'; b: number }
  | { id: number; op: 'join'; url: string; token: string }
  | { id: number; op: 'close' };

async function handle(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'open': {
      await inFlight(
        command.count,
        async (i) => {
          const socket = await openOne(command.url, command.tokens[i % command.tokens.length]!);
          // Sockets are listed as they open, not as they were started: the publisher is the first one
          // started (the first token, the editor's), wherever its upgrade finished.
          if (i === 0) publisher = socket;
        },
        { concurrency: command.concurrency },
      );
      return sockets.length;
    }
    case 'status':
      return {
        open: sockets.length,
        settled: sockets.filter((s) => s.self && s.peers === command.expected).length,
        failure,
        retried,
      };
    case 'ids':
      return sockets.map((s) => s.self);
    case 'verify': {
      const all = new Set(command.ids);
      for (const s of sockets) {
        if (!s.exact) continue;
        const expected = new Set(all);
        expected.delete(s.self!);
        if (s.exact.size !== expected.size || [...expected].some((id) => !s.exact!.has(id))) return false;
      }
      return true;
    }
    case 'publish':
      if (!publisher) throw new Error('this shard opened no publisher');
      publisher.ws.send(JSON.stringify({ type: 'publish', data: { b: command.b, t: now() } }));
      return true;
    case 'latencies':
      return latencies.get(command.b) ?? [];
    case 'join':
      await openOne(command.url, command.token);
      return sockets.length;
    case 'close':
      closing = true;
      for (const s of sockets) s.ws.terminate();
      setTimeout(() => process.exit(0), 100);
      return true;
  }
}

process.on('message', (command: Command) => {
  handle(command).then(
    (result) => process.send?.({ id: command.id, result }),
    (error: unknown) => process.send?.({ id: command.id, error: (error as Error)?.message ?? String(error) }),
  );
});
