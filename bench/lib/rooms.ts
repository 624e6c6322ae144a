/**
 * What the room benches share: a document to hold a room, sockets opened a few at a time, a socket's
 * upgrade awaited with its refusal named, and the rounds of a side-by-side comparison, alternating which
 * side goes first.
 */
import WebSocket from 'ws';
import type { SignetServer } from './servers.ts';

/** Connection attempts in flight while a room fills, in every room bench. */
export const CONNECT_CONCURRENCY = 16;

/**
 * Runs `each(0)`, `each(1)`, … `each(count - 1)`, `concurrency` at a time, started in index order; once
 * `stop()` says so, no more are started. How the room benches open their sockets.
 */
export async function inFlight(
  count: number,
  each: (index: number) => Promise<void>,
  { concurrency = CONNECT_CONCURRENCY, stop = () => false }: { concurrency?: number; stop?: () => boolean } = {},
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count && !stop()) await each(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * A socket into a room without per-message compression, for Signet's rooms and the peers' alike.
 * Signet's Worker declines compression (`no_web_socket_compression` in wrangler.toml: a broadcast would
 * deflate every frame once per socket), but under `wrangler dev` miniflare's own entry Worker answers the
 * upgrade with its own compatibility flags and negotiates it whatever ours say; so the bench's clients
 * don't offer it — to the peers either, so that both sides of a comparison run on the same transport
 * (with it, as a peer ships by default, the peer's figures are lower still: bench/README.md).
 */
export function uncompressedSocket(url: string, token?: string): WebSocket {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return new WebSocket(url, { headers, perMessageDeflate: false });
}

/** One side of a fan-out comparison: a room and how to open a socket in it, as a publisher or a receiver. */
export interface Target {
  readonly name: string;
  open(role: 'publisher' | 'receiver'): WebSocket;
}

/** A new document in the demo organization, created by its editor; its id. */
export async function createDocument(signet: SignetServer, title: string): Promise<string> {
  const response = await fetch(`${signet.base}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signet.token('editor')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  if (response.status !== 201) throw new Error(`create document: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { document: { id: string } }).document.id;
}

/** Resolves when `ws` is open; rejects with the upgrade's status when the server refused it. */
export function opened(ws: WebSocket, name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) =>
      reject(new Error(`${name}: upgrade answered ${response.statusCode}`)),
    );
  });
}

/**
 * `rounds` rounds of `ours` and `theirs`, one after the other, the first going first in even rounds and
 * second in odd ones, so drift and noise fall on both sides alike.
 */
export async function alternating<T>(
  rounds: number,
  ours: () => Promise<T>,
  theirs: () => Promise<T>,
  each?: (ours: T, theirs: T) => void,
): Promise<{ ours: T[]; theirs: T[] }> {
  const result: { ours: T[]; theirs: T[] } = { ours: [], theirs: [] };
  for (let i = 0; i < rounds; i++) {
    let a: T;
    let b: T;
    if (i % 2 === 0) {
      a = await ours();
      b = await theirs();
    } else {
      b = await theirs();
      a = await ours();
    }
    result.ours.push(a);
    result.theirs.push(b);
    each?.(a, b);
  }
  return result;
}
