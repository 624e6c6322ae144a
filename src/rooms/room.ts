/**
 * A document's realtime room (SPEC §4): one Durable Object per document, WebSocket actors on the
 * hibernatable WebSocket API.
 *
 * Owns: admission of actors the Worker already verified (`fetch`, reachable only from the Worker), the
 * protocol (welcome, presence, ordered messages with a persisted `seq`, errors, pong), per-frame
 * authorization, expiry (an alarm closes a socket at its token's `exp` unless re-authenticated), abuse
 * limits, and revocation pushed to it (`revokeActor`, `closeAll`). After hibernation or eviction every
 * entry point restores the connection's actor from its attachment — never from client input.
 * Doesn't own: token verification at the upgrade (the Worker), who may join (the `rooms:join` policy,
 * checked by the Worker before the upgrade).
 */
import { DurableObject } from 'cloudflare:workers';
import { openDatabase } from '../db/client.ts';
import type { Env } from '../env.ts';
import { log } from '../observability/log.ts';
import { can } from '../policy/authorize.ts';
import { resolveBearer } from '../services/resolve-bearer.ts';
import {
  type Admission,
  type Attachment,
  actorTag,
  admittedFrom,
  chainTags,
  readAttachment,
  roomView,
  websocketActor,
} from './attachment.ts';
import {
  CLOSE,
  ClientFrame,
  MAX_DATA_BYTES,
  MAX_FRAME_BYTES,
  MAX_STRIKES,
  type Peer,
  RATE_BURST,
  RATE_PER_SECOND,
  type ServerFrame,
  SUBPROTOCOL,
} from './protocol.ts';

type Signet = Attachment['signet'];

interface Limits {
  tokens: number;
  at: number;
  strikes: number;
}

const encoder = new TextEncoder();

/**
 * Each open socket's attachment as this incarnation of the room last wrote or read it: a broadcast to
 * N sockets would otherwise deserialize N attachments per message. Keyed by the socket object, which
 * the runtime keeps while the room is in memory; after hibernation the sockets are new objects and
 * every entry is read again from its attachment (never from client input).
 */
const attachments = new WeakMap<WebSocket, Signet>();

function attachmentOf(ws: WebSocket): Signet | null {
  const known = attachments.get(ws);
  if (known) return known;
  const signet = readAttachment(ws.deserializeAttachment());
  if (signet) attachments.set(ws, signet);
  return signet;
}

export class DocumentRoom extends DurableObject<Env> {
  #phase: 'starting' | 'ready' = 'starting';
  #seq = 0;
  #roomId: string | null = null;
  #organizationId: string | null = null;
  /** Per-connection rate state; deliberately in memory only (a hibernation resets it). */
  readonly #limits = new Map<string, Limits>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.#seq = (await ctx.storage.get<number>('seq')) ?? 0;
      this.#roomId = (await ctx.storage.get<string>('roomId')) ?? null;
      this.#organizationId = (await ctx.storage.get<string>('organizationId')) ?? null;
      this.#phase = 'ready';
    });
    // Answered by the runtime itself, without waking a hibernated room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** Admission of a verified actor; the request is built by the Worker, never forwarded from a client. */
  override async fetch(request: Request): Promise<Response> {
    const admission = JSON.parse(request.headers.get('x-signet-admission') ?? 'null') as Admission | null;
    if (!admission || request.headers.get('upgrade') !== 'websocket') return new Response(null, { status: 400 });
    if (this.#roomId === null) {
      this.#roomId = admission.roomId;
      this.#organizationId = admission.actor.organizationId;
      await this.ctx.storage.put({ roomId: this.#roomId, organizationId: this.#organizationId });
    }
    const wasEmpty = this.#open().length === 0;
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const signet: Signet = {
      v: 2,
      connectionId: crypto.randomUUID(),
      roomId: admission.roomId,
      actor: admission.actor,
      expiresAt: admission.expiresAt,
    };
    this.ctx.acceptWebSocket(server, chainTags(signet));
    server.serializeAttachment({ signet } satisfies Attachment);
    attachments.set(server, signet);
    const peers = this.#open()
      .filter((c) => c.signet.connectionId !== signet.connectionId)
      .map((c) => peerOf(c.signet));
    send(server, {
      type: 'welcome',
      connectionId: signet.connectionId,
      actor: roomView(signet.actor),
      peers,
      seq: this.#seq,
    });
    this.#broadcast({ type: 'joined', ...peerOf(signet) }, signet.connectionId);
    await this.#scheduleExpiry();
    if (wasEmpty) this.#report(this.#registry()?.register(admission.roomId));
    const headers = admission.subprotocol ? { 'sec-websocket-protocol': SUBPROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const signet = attachmentOf(ws);
    if (!signet) return ws.close(CLOSE.INTERNAL_ERROR, 'internal error');
    if (Date.now() >= signet.expiresAt * 1000) return ws.close(CLOSE.TOKEN_EXPIRED, 'token expired');
    const size = typeof message === 'string' ? encoder.encode(message).byteLength : message.byteLength;
    if (size > MAX_FRAME_BYTES) return ws.close(CLOSE.FRAME_TOO_LARGE, 'frame too large');
    if (!this.#allow(signet.connectionId)) {
      return this.#strike(ws, signet, 'RATE_LIMITED', 'Too many frames; slow down.');
    }
    let frame: ClientFrame;
    try {
      if (typeof message !== 'string') throw new Error('binary');
      frame = ClientFrame.parse(JSON.parse(message));
    } catch {
      return this.#strike(ws, signet, 'VALIDATION_FAILED', 'The frame is not a valid signet.v1 frame.');
    }
    switch (frame.type) {
      case 'ping':
        return send(ws, { type: 'pong' });
      case 'publish':
        return this.#publish(ws, signet, frame.data);
      case 'reauth':
        return this.#reauth(ws, signet, frame.token);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const signet = attachmentOf(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
    this.#gone(ws, signet);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#gone(ws, attachmentOf(ws));
  }

  /** Closes every connection whose token has expired, then waits for the next expiry. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const { ws, signet } of this.#open()) {
      if (now >= signet.expiresAt * 1000) ws.close(CLOSE.TOKEN_EXPIRED, 'token expired');
    }
    await this.#scheduleExpiry();
  }

  /** Closes the connections of one actor (member removed, role changed, API key revoked): 4003. */
  async revokeActor(type: 'user' | 'service' | 'agent', id: string): Promise<number> {
    const sockets = this.ctx.getWebSockets(actorTag(type, id));
    for (const ws of sockets) ws.close(CLOSE.ACCESS_REVOKED, 'access revoked');
    if (sockets.length > 0) {
      log({
        level: 'info',
        msg: 'room connections revoked',
        roomId: this.#roomId ?? undefined,
        actor: { type, id },
        code: String(sockets.length),
      });
    }
    return sockets.length;
  }

  /** Closes every connection (document deleted, organization closed). */
  async closeAll(code: number = CLOSE.ACCESS_REVOKED, reason = 'access revoked'): Promise<number> {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.close(code, reason);
    return sockets.length;
  }

  /** Observability for tests and benchmarks: open connections and the current `seq`. */
  async stats(): Promise<{ connections: number; seq: number; phase: string }> {
    return { connections: this.#open().length, seq: this.#seq, phase: this.#phase };
  }

  #publish(ws: WebSocket, signet: Signet, data: unknown): void {
    // Gate before: the permission is checked on every frame, from the restored actor.
    if (!can(websocketActor(signet), 'rooms:publish')) {
      send(ws, { type: 'error', code: 'INSUFFICIENT_PERMISSIONS', message: 'Publishing needs rooms:publish.' });
      return;
    }
    if (encoder.encode(JSON.stringify(data)).byteLength > MAX_DATA_BYTES) {
      ws.close(CLOSE.FRAME_TOO_LARGE, 'data over 16 KiB');
      return;
    }
    this.#seq += 1;
    // Not awaited on purpose: the output gate holds every frame sent below until this write is durable,
    // so no client ever sees a seq that a restart could hand out again.
    void this.ctx.storage.put('seq', this.#seq);
    this.#broadcast({ type: 'message', from: peerOf(signet), data, seq: this.#seq, at: new Date().toISOString() });
  }

  async #reauth(ws: WebSocket, signet: Signet, token: string): Promise<void> {
    try {
      const actor = await resolveBearer(token, this.env, () => openDatabase(this.env));
      if (
        actor.type !== signet.actor.type ||
        actor.id !== signet.actor.id ||
        actor.organizationId !== signet.actor.organizationId
      ) {
        return send(ws, {
          type: 'error',
          code: 'INVALID_TOKEN',
          message: 'The token is for another actor or organization.',
        });
      }
      const renewed: Signet = {
        ...signet,
        actor: admittedFrom(actor as typeof actor & { organizationId: string }),
        expiresAt: Math.max(signet.expiresAt, actor.token.expiresAt),
      };
      ws.serializeAttachment({ signet: renewed } satisfies Attachment);
      attachments.set(ws, renewed);
      await this.#scheduleExpiry();
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'INVALID_TOKEN';
      send(ws, { type: 'error', code, message: 'The token was not accepted; the connection keeps its old expiry.' });
    }
  }

  #strike(ws: WebSocket, signet: Signet, code: string, message: string): void {
    const limits = this.#limitsOf(signet.connectionId);
    limits.strikes += 1;
    log({
      level: 'warn',
      msg: limits.strikes >= MAX_STRIKES ? 'room connection closed for abuse' : 'room frame refused',
      code,
      roomId: signet.roomId,
      connectionId: signet.connectionId,
      actor: { type: signet.actor.type, id: signet.actor.id },
      ...(signet.actor.type === 'agent' ? { onBehalfOf: signet.actor.onBehalfOf } : {}),
      organizationId: signet.actor.organizationId,
    });
    if (limits.strikes >= MAX_STRIKES) ws.close(CLOSE.RATE_LIMITED, 'rate limited');
    else send(ws, { type: 'error', code, message });
  }

  #allow(connectionId: string): boolean {
    const limits = this.#limitsOf(connectionId);
    const now = Date.now();
    limits.tokens = Math.min(RATE_BURST, limits.tokens + ((now - limits.at) / 1000) * RATE_PER_SECOND);
    limits.at = now;
    if (limits.tokens < 1) return false;
    limits.tokens -= 1;
    return true;
  }

  #limitsOf(connectionId: string): Limits {
    let limits = this.#limits.get(connectionId);
    if (!limits) {
      limits = { tokens: RATE_BURST, at: Date.now(), strikes: 0 };
      this.#limits.set(connectionId, limits);
    }
    return limits;
  }

  #gone(ws: WebSocket, signet: Signet | null): void {
    if (!signet) return;
    this.#limits.delete(signet.connectionId);
    this.#broadcast({ type: 'left', ...peerOf(signet) }, signet.connectionId, ws);
    if (this.#open().filter((c) => c.ws !== ws).length === 0 && this.#roomId) {
      this.#report(this.#registry()?.unregister(this.#roomId));
    }
    this.#report(this.#scheduleExpiry());
  }

  #open(): { ws: WebSocket; signet: Signet }[] {
    const open = [];
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const signet = attachmentOf(ws);
      if (signet) open.push({ ws, signet });
    }
    return open;
  }

  #broadcast(frame: ServerFrame, exceptConnectionId?: string, exceptSocket?: WebSocket): void {
    const text = JSON.stringify(frame);
    for (const { ws, signet } of this.#open()) {
      if (signet.connectionId === exceptConnectionId || ws === exceptSocket) continue;
      try {
        ws.send(text);
      } catch {
        // a socket closing concurrently: its close handler announces it
      }
    }
  }

  async #scheduleExpiry(): Promise<void> {
    const next = Math.min(...this.#open().map((c) => c.signet.expiresAt * 1000));
    if (!Number.isFinite(next)) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next || current < Date.now()) await this.ctx.storage.setAlarm(next);
  }

  #registry() {
    if (!this.#organizationId) return undefined;
    return this.env.ORG_ROOMS.get(this.env.ORG_ROOMS.idFromName(this.#organizationId));
  }

  /** Follow-up work that must not fail the frame: reported, never silently dropped. */
  #report(work: Promise<unknown> | undefined): void {
    if (!work) return;
    this.ctx.waitUntil(
      work.catch((error: unknown) =>
        log({
          level: 'error',
          msg: 'room follow-up failed',
          roomId: this.#roomId ?? undefined,
          error: (error as Error)?.name,
        }),
      ),
    );
  }
}

function peerOf(signet: Signet): Peer {
  return { connectionId: signet.connectionId, actor: roomView(signet.actor) };
}

function send(ws: WebSocket, frame: ServerFrame): void {
  try {
    ws.send(JSON.stringify(frame));
  } catch {
    // the socket is closing: nothing to tell it
  }
}
