/** WebSocket clients for room tests: real upgrades through the Worker (`SELF`), frames collected in order. */
import { SELF } from 'cloudflare:test';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface RoomClient {
  ws: WebSocket;
  /** The JSON text frames, in order. */
  frames: Frame[];
  /** The binary (Yjs) frames, in order (SPEC §4.1); `onBinary` listeners see each as it arrives. */
  binary: Uint8Array[];
  onBinary: Set<(bytes: Uint8Array) => void>;
  protocol: string | null;
  /** Resolves with the first frame (already received or future) matching `predicate`. */
  next(predicate: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  send(frame: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

export async function openRoom(
  documentId: string,
  credentials: { token?: string; subprotocols?: string[] } = {},
): Promise<{ status: number; body?: unknown; client?: RoomClient }> {
  const headers: Record<string, string> = { upgrade: 'websocket' };
  if (credentials.token) headers.authorization = `Bearer ${credentials.token}`;
  if (credentials.subprotocols) headers['sec-websocket-protocol'] = credentials.subprotocols.join(', ');
  const response = await SELF.fetch(`http://signet.test/v1/rooms/${documentId}`, { headers });
  if (response.status !== 101 || !response.webSocket) {
    return { status: response.status, body: await response.json().catch(() => null) };
  }
  const ws = response.webSocket;
  const frames: Frame[] = [];
  const binary: Uint8Array[] = [];
  const onBinary = new Set<(bytes: Uint8Array) => void>();
  const waiters: { predicate: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  let resolveClosed!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    resolveClosed = resolve;
  });
  ws.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') {
      const bytes = new Uint8Array(event.data as ArrayBuffer);
      binary.push(bytes);
      for (const listener of onBinary) listener(bytes);
      return;
    }
    const frame = JSON.parse(event.data) as Frame;
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  ws.addEventListener('close', (event) => resolveClosed({ code: event.code, reason: event.reason }));
  // Binary frames as ArrayBuffer, handled in order with the text frames (the default is Blob).
  (ws as { binaryType?: string }).binaryType = 'arraybuffer';
  ws.accept();
  const client: RoomClient = {
    ws,
    frames,
    binary,
    onBinary,
    protocol: response.headers.get('sec-websocket-protocol'),
    next(predicate, timeoutMs = 5000) {
      const seen = frames.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) {
            waiters.splice(index, 1);
            reject(
              new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.type))}`),
            );
          }
        }, timeoutMs);
      });
    },
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    closed,
  };
  return { status: 101, client };
}

export async function connected(documentId: string, token: string): Promise<RoomClient> {
  const { status, client, body } = await openRoom(documentId, { token });
  if (!client) throw new Error(`expected an upgrade, got ${status} ${JSON.stringify(body)}`);
  await client.next((f) => f.type === 'welcome');
  return client;
}

export { withTimeout } from './timeout.ts';
