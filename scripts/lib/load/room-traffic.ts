/**
 * The realtime side of `npm run load`: in every organization a few WebSocket clients join one
 * document's room with the browser credentials (subprotocols `signet.v1`, `bearer.<token>`); the two
 * editors publish at a steady pace under the room's per-connection limit (burst 30, 15 a second) and a
 * viewer listens. It measures the time from a publish to its echo, and checks at the end that every
 * client received every message, numbered by `seq` without a gap or a repeat, with no error frame and
 * no close it didn't ask for.
 */
import { percentiles } from './recorder.ts';
import type { LoadOrganization } from './tenants.ts';

/** 8 a second: comfortably under the sustained 15 a second a connection may publish. */
const PUBLISH_EVERY_MS = 125;

interface Frame {
  type: string;
  connectionId?: string;
  seq?: number;
  from?: { connectionId: string };
  data?: { n: number };
  code?: string;
}

class RoomClient {
  readonly ws: WebSocket;
  readonly publishes: boolean;
  connectionId: string | null = null;
  readonly seqs: number[] = [];
  readonly errors: string[] = [];
  /** Close codes this client didn't ask for. */
  readonly unexpectedCloses: number[] = [];
  readonly sentAt = new Map<number, number>();
  readonly echoMs: number[] = [];
  published = 0;
  #closing = false;
  readonly welcomed: Promise<void>;

  constructor(url: string, token: string, publishes: boolean) {
    this.publishes = publishes;
    this.ws = new WebSocket(url, ['signet.v1', `bearer.${token}`]);
    this.welcomed = new Promise((resolve, reject) => {
      this.ws.addEventListener('message', (event) => {
        // Binary frames are the document's Yjs sync (SPEC §4.1), not room messages.
        if (typeof event.data !== 'string') return;
        const frame = JSON.parse(String(event.data)) as Frame;
        if (frame.type === 'welcome') {
          this.connectionId = frame.connectionId ?? null;
          resolve();
        } else if (frame.type === 'message') {
          this.seqs.push(frame.seq!);
          const sent = frame.from?.connectionId === this.connectionId ? this.sentAt.get(frame.data!.n) : undefined;
          if (sent !== undefined) this.echoMs.push(performance.now() - sent);
        } else if (frame.type === 'error') this.errors.push(frame.code ?? 'error');
      });
      this.ws.addEventListener('close', (event) => {
        if (!this.#closing) this.unexpectedCloses.push(event.code);
        reject(new Error(`closed before welcome (${event.code})`));
      });
      this.ws.addEventListener('error', () => reject(new Error('the room refused the connection')));
    });
  }

  publish(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const n = this.published++;
    this.sentAt.set(n, performance.now());
    this.ws.send(JSON.stringify({ type: 'publish', data: { n } }));
  }

  close(): Promise<void> {
    this.#closing = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.addEventListener('close', () => resolve());
      this.ws.close(1000, 'load done');
    });
  }
}

interface Room {
  organization: number;
  clients: RoomClient[];
}

export interface RoomReport {
  rooms: number;
  clients: number;
  published: number;
  delivered: number;
  echo: { p50: number; p99: number; max: number };
  /** Everything that went wrong, one line each; empty when every check held. */
  problems: string[];
}

export class RoomTraffic {
  readonly #rooms: Room[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Joins one room per organization with two publishing editors and a listening viewer. */
  async join(base: string, organizations: LoadOrganization[]): Promise<void> {
    const origin = base.replace(/^http/, 'ws');
    for (const organization of organizations) {
      const url = `${origin}/v1/rooms/${organization.documents[0]!.id}`;
      const clients = [
        new RoomClient(url, organization.tokens.editors[0]!, true),
        new RoomClient(url, organization.tokens.editors[1]!, true),
        new RoomClient(url, organization.tokens.viewer, false),
      ];
      this.#rooms.push({ organization: organization.index, clients });
    }
    await Promise.all(this.#rooms.flatMap((room) => room.clients.map((client) => client.welcomed)));
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (const room of this.#rooms) for (const client of room.clients) if (client.publishes) client.publish();
    }, PUBLISH_EVERY_MS);
  }

  /** Stops publishing, waits (at most `drainMs`) for every message to reach every client, then leaves. */
  async stop(drainMs = 10_000): Promise<RoomReport> {
    clearInterval(this.#timer);
    const publishedIn = (room: Room) => room.clients.reduce((sum, client) => sum + client.published, 0);
    const drained = () => this.#rooms.every((room) => room.clients.every((c) => c.seqs.length >= publishedIn(room)));
    const until = performance.now() + drainMs;
    while (!drained() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(this.#rooms.flatMap((room) => room.clients.map((client) => client.close())));

    const problems: string[] = [];
    for (const room of this.#rooms) {
      const published = publishedIn(room);
      for (const [index, client] of room.clients.entries()) {
        const who = `organization ${room.organization}, room client ${index}`;
        if (client.seqs.length !== published)
          problems.push(`${who}: received ${client.seqs.length} of ${published} messages`);
        const gaps = client.seqs.filter((seq, i) => i > 0 && seq !== client.seqs[i - 1]! + 1).length;
        if (gaps > 0) problems.push(`${who}: seq skipped or repeated ${gaps} times`);
        if (client.errors.length > 0) problems.push(`${who}: error frames ${client.errors.join(', ')}`);
        if (client.unexpectedCloses.length > 0)
          problems.push(`${who}: closed with ${client.unexpectedCloses.join(', ')}`);
      }
    }
    const clients = this.#rooms.flatMap((room) => room.clients);
    return {
      rooms: this.#rooms.length,
      clients: clients.length,
      published: this.#rooms.reduce((sum, room) => sum + publishedIn(room), 0),
      delivered: clients.reduce((sum, client) => sum + client.seqs.length, 0),
      echo: percentiles(clients.flatMap((client) => client.echoMs)),
      problems,
    };
  }
}
