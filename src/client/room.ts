/**
 * A realtime room from the client's side (SPEC §4), on partysocket's reconnecting WebSocket:
 *
 * - credentials go in the subprotocols `signet.v1` + `bearer.<token>`, asked afresh on every
 *   (re)connection, so a reconnect never reuses an expired token;
 * - before the token expires (at 80% of its life) the room sends `reauth` with a fresh token;
 * - close codes surface as typed events: `expired` (4001; it reconnects with a fresh token),
 *   `revoked` (4003; it stops for good), `rate-limited` (4008) and `too-large` (4009) (it backs off
 *   and reconnects), anything else reconnects with exponential backoff;
 * - presence arrives as `joined`/`left` or, coalesced, as `presence` frames (SPEC §4): both update
 *   `peers` and are surfaced alike, as one `presence` event per frame plus a `joined`/`left` event
 *   per peer;
 * - `room.doc` is the document's Y.Doc (SPEC §4.1), kept in sync over the same socket with its awareness
 *   (`room.awareness`, each state stamped by the room with its actor under `signet`); see `room-document.ts`;
 * - on every (re)connection it sends one `ping` (answered by the runtime without waking the room):
 *   workerd completes a close the server starts only once the connection has carried a frame from
 *   the client, so this keeps `revoked`/`expired` prompt (README, "Realtime rooms").
 */
import { WebSocket as ReconnectingWebSocket } from 'partysocket';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { RoomDocument } from './room-document.ts';

/** `{type, id, role?}` for users and services; agents also name their user and themselves (SPEC §4). */
export interface RoomActor {
  type: 'user' | 'service' | 'agent';
  id: string;
  role?: string;
  onBehalfOf?: { type: 'user'; id: string };
  name?: string;
}

export interface RoomPeer {
  connectionId: string;
  actor: RoomActor;
}

export interface RoomEvents {
  welcome: { connectionId: string; actor: RoomActor; peers: RoomPeer[]; seq: number };
  joined: RoomPeer;
  left: RoomPeer;
  /** Every presence change, whichever form it came in. */
  presence: { joined: RoomPeer[]; left: RoomPeer[] };
  message: { from: RoomPeer; data: unknown; seq: number; at: string };
  error: { code: string; message: string };
  pong: Record<string, never>;
  expired: { code: 4001 };
  revoked: { code: 4003; reason: string };
  'rate-limited': { code: 4008 };
  'too-large': { code: 4009 };
  closed: { code: number; reason: string; reconnecting: boolean };
  state: { state: RoomState };
}

export type RoomState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface RoomOptions {
  /** The WebSocket implementation where there is no global one (e.g. `ws` on older Node). */
  WebSocket?: unknown;
  /** Backoff bounds in ms (defaults 250 … 10,000). */
  minReconnectionDelay?: number;
  maxReconnectionDelay?: number;
}

type Listener<K extends keyof RoomEvents> = (event: RoomEvents[K]) => void;

const CLOSE_EVENTS: Record<number, keyof RoomEvents> = {
  4001: 'expired',
  4003: 'revoked',
  4008: 'rate-limited',
  4009: 'too-large',
};

export class SignetRoom {
  readonly #listeners = new Map<keyof RoomEvents, Set<Listener<keyof RoomEvents>>>();
  readonly #socket: ReconnectingWebSocket;
  readonly #getToken: () => Promise<string | undefined>;
  #reauthTimer: ReturnType<typeof setTimeout> | undefined;
  #state: RoomState = 'connecting';
  #document: RoomDocument | null = null;
  /** The peers currently in the room, this connection included. */
  readonly peers = new Map<string, RoomPeer>();
  connectionId: string | null = null;

  constructor(options: RoomOptions & { url: string; getToken: () => Promise<string | undefined> }) {
    this.#getToken = options.getToken;
    this.#socket = new ReconnectingWebSocket(
      options.url,
      async () => ['signet.v1', `bearer.${await this.#freshToken()}`],
      {
        WebSocket: options.WebSocket,
        minReconnectionDelay: options.minReconnectionDelay ?? 250,
        maxReconnectionDelay: options.maxReconnectionDelay ?? 10_000,
        reconnectionDelayGrowFactor: 2,
      },
    );
    // Binary (Yjs) frames as ArrayBuffer, in order with the JSON ones (a browser's default is Blob).
    this.#socket.binaryType = 'arraybuffer';
    this.#socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') this.#receive(event.data);
      else this.#document?.receive(new Uint8Array(event.data as ArrayBuffer));
    });
    this.#socket.addEventListener('open', () => {
      this.#socket.send('{"type":"ping"}');
      this.#setState('open');
      this.#document?.connected();
    });
    this.#socket.addEventListener('close', (event) => {
      this.#document?.disconnected();
      this.#closed(event.code, event.reason);
    });
  }

  get state(): RoomState {
    return this.#state;
  }

  /** The room's collaborative document (its `body` is `doc.getText('body')`), synced while connected. */
  get doc(): Y.Doc {
    return this.#collaboration().doc;
  }

  /** Who is in the document and where: Yjs awareness, each remote state stamped with its actor (`signet`). */
  get awareness(): Awareness {
    return this.#collaboration().awareness;
  }

  /** Resolves when `doc` holds the room's state. */
  synced(): Promise<void> {
    return this.#collaboration().whenSynced();
  }

  #collaboration(): RoomDocument {
    if (!this.#document) {
      this.#document = new RoomDocument((bytes) => {
        if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(bytes as Uint8Array<ArrayBuffer>);
      });
      // Already connected: start syncing now (otherwise at the next open).
      if (this.#socket.readyState === this.#socket.OPEN) this.#document.connected();
    }
    return this.#document;
  }

  on<K extends keyof RoomEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener as Listener<keyof RoomEvents>);
    return () => set.delete(listener as Listener<keyof RoomEvents>);
  }

  /** Resolves with the next event of `type`. */
  once<K extends keyof RoomEvents>(type: K): Promise<RoomEvents[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (event) => {
        off();
        resolve(event);
      });
    });
  }

  publish(data: unknown): void {
    this.#socket.send(JSON.stringify({ type: 'publish', data }));
  }

  ping(): void {
    this.#socket.send('{"type":"ping"}');
  }

  close(): void {
    if (this.#reauthTimer !== undefined) clearTimeout(this.#reauthTimer);
    this.#document?.destroy();
    this.#socket.close(1000, 'client closed');
    this.#setState('closed');
  }

  async #freshToken(): Promise<string> {
    const token = await this.#getToken();
    if (!token) throw new Error('a room needs a token');
    this.#scheduleReauth(token);
    return token;
  }

  #scheduleReauth(token: string): void {
    if (this.#reauthTimer !== undefined) clearTimeout(this.#reauthTimer);
    const claims = decodeClaims(token);
    if (!claims) return;
    const lifetime = (claims.exp - claims.iat) * 1000;
    const at = claims.iat * 1000 + lifetime * 0.8;
    this.#reauthTimer = setTimeout(
      async () => {
        try {
          const fresh = await this.#freshToken();
          this.#socket.send(JSON.stringify({ type: 'reauth', token: fresh }));
        } catch {
          // no fresh token: the room closes with 4001 at expiry and reconnects when one is available
        }
      },
      Math.max(0, at - Date.now()),
    );
  }

  #receive(text: string): void {
    let frame: { type: keyof RoomEvents } & Record<string, unknown>;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    switch (frame.type) {
      case 'welcome': {
        const welcome = frame as unknown as RoomEvents['welcome'];
        this.peers.clear();
        this.connectionId = welcome.connectionId;
        this.peers.set(welcome.connectionId, { connectionId: welcome.connectionId, actor: welcome.actor });
        for (const peer of welcome.peers) this.peers.set(peer.connectionId, peer);
        break;
      }
      case 'joined':
      case 'left': {
        const peer = { connectionId: String(frame.connectionId), actor: frame.actor as RoomActor };
        this.#presence(frame.type === 'joined' ? [peer] : [], frame.type === 'left' ? [peer] : []);
        return;
      }
      case 'presence': {
        const { joined, left } = frame as unknown as RoomEvents['presence'];
        this.#presence(Array.isArray(joined) ? joined : [], Array.isArray(left) ? left : []);
        return;
      }
    }
    this.#emit(frame.type, frame as never);
  }

  #presence(joined: RoomPeer[], left: RoomPeer[]): void {
    for (const peer of left) this.peers.delete(peer.connectionId);
    for (const peer of joined) this.peers.set(peer.connectionId, peer);
    this.#emit('presence', { joined, left });
    for (const peer of left) this.#emit('left', peer);
    for (const peer of joined) this.#emit('joined', peer);
  }

  #closed(code: number, reason: string): void {
    const named = CLOSE_EVENTS[code];
    if (named) this.#emit(named, { code, reason } as never);
    // Revoked access won't come back by retrying: stop for good.
    const reconnecting = code !== 4003 && this.#state !== 'closed';
    if (!reconnecting) {
      if (this.#reauthTimer !== undefined) clearTimeout(this.#reauthTimer);
      this.#socket.close(1000, 'not reconnecting');
    }
    this.#setState(reconnecting ? 'reconnecting' : 'closed');
    this.#emit('closed', { code, reason, reconnecting });
  }

  #setState(state: RoomState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit('state', { state });
  }

  #emit<K extends keyof RoomEvents>(type: K, event: RoomEvents[K]): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event as never);
  }
}

function decodeClaims(token: string): { iat: number; exp: number } | null {
  try {
    const payload = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload)) as { iat?: unknown; exp?: unknown };
    return typeof claims.iat === 'number' && typeof claims.exp === 'number'
      ? { iat: claims.iat, exp: claims.exp }
      : null;
  } catch {
    return null;
  }
}
