/**
 * A document's realtime room (SPEC §4): one Durable Object per document, WebSocket actors on the
 * hibernatable WebSocket API.
 *
 * Owns: admission of actors the Worker already verified (`fetch`, reachable only from the Worker), the
 * protocol (welcome, presence, ordered messages with a persisted `seq`, errors, pong), per-frame
 * authorization, expiry (an alarm closes a socket at its token's `exp` unless re-authenticated), abuse
 * limits, and revocation pushed to it (`revokeActor`, `closeAll`). After hibernation or eviction every
 * entry point restores the connection's actor from its attachment — never from client input.
 *
 * Size: a join and a leave cost O(1) in the number of sockets apart from the `welcome` snapshot
 * (SPEC §4). The room keeps an index of its open connections (rebuilt once per wake-up from the
 * attachments, not per event), an expiry heap (`expiry.ts`) and an in-memory copy of the alarm time,
 * and coalesces presence into one frame per socket per `PRESENCE_WINDOW_MS` (`presence.ts`).
 * Doesn't own: token verification at the upgrade (the Worker), who may join (the `rooms:join` policy,
 * checked by the Worker before the upgrade).
 */
import { DurableObject } from 'cloudflare:workers';
import { chainOf } from '../actor/actor.ts';
import { openDatabase } from '../db/client.ts';
import type { Env } from '../env.ts';
import { resolveBearer } from '../identity/resolve-bearer.ts';
import { log } from '../observability/log.ts';
import { can } from '../policy/authorize.ts';
import {
  type Admission,
  type Attachment,
  actorTag,
  chainTags,
  readAttachment,
  roomView,
  websocketActor,
} from './attachment.ts';
import { ExpiryHeap } from './expiry.ts';
import { PRESENCE_WINDOW_MS, PresenceBatch, type PresenceEntry } from './presence.ts';
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

/** An open connection as the index holds it. */
interface Member {
  readonly ws: WebSocket;
  signet: Signet;
  /** `{"connectionId":…,"actor":…}`, serialized once at the join. */
  readonly presence: PresenceEntry;
}

const encoder = new TextEncoder();

/** How long a revocation is remembered: the longest token lifetime (SPEC §2: 1 h). */
const DENY_FOR_SECONDS = 3600;

export class DocumentRoom extends DurableObject<Env> {
  #phase: 'starting' | 'ready' = 'starting';
  #seq = 0;
  #roomId: string | null = null;
  #organizationId: string | null = null;
  /** Per-connection rate state; deliberately in memory only (a hibernation resets it). */
  readonly #limits = new Map<string, Limits>();
  /**
   * Open connections by id and by socket; `null` until the first entry point after a wake-up reads
   * the attachments (once). A connection the room closed itself leaves the index at once.
   */
  #byId: Map<string, Member> | null = null;
  #bySocket = new Map<WebSocket, Member>();
  #expiry = new ExpiryHeap();
  /** The alarm as last set (ms), `null` when none; read from storage once per wake-up. */
  #alarmAt: number | null = null;
  readonly #presence = new PresenceBatch();
  #presenceTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Links of chains revoked here (`actorTag` → revoked at, in milliseconds): an admission whose chain holds
   * one, with a token issued before, is refused.
   */
  readonly #denied = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<number | string>(['seq', 'roomId', 'organizationId']);
      this.#seq = (stored.get('seq') as number | undefined) ?? 0;
      this.#roomId = (stored.get('roomId') as string | undefined) ?? null;
      this.#organizationId = (stored.get('organizationId') as string | undefined) ?? null;
      this.#alarmAt = await ctx.storage.getAlarm();
      const now = Date.now();
      for (const [key, at] of await ctx.storage.list<number>({ prefix: 'denied:' })) {
        if (at > now - DENY_FOR_SECONDS * 1000) this.#denied.set(key.slice('denied:'.length), at);
      }
      this.#phase = 'ready';
    });
    // Answered by the runtime itself, without waking a hibernated room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** Admission of a verified actor; the request is built by the Worker, never forwarded from a client. */
  override async fetch(request: Request): Promise<Response> {
    const admission = JSON.parse(request.headers.get('x-signet-admission') ?? 'null') as Admission | null;
    if (!admission || request.headers.get('upgrade') !== 'websocket') return new Response(null, { status: 400 });
    const index = this.#index();
    const issuedAt = Math.round(admission.actor.token.issuedAt * 1000);
    const revoked = chainOf(admission.actor).some((link) => {
      const at = this.#denied.get(actorTag(link.type, link.id));
      return at !== undefined && issuedAt <= at;
    });
    if (revoked) {
      // Admitted by the Worker while its revocation was being pushed here: the room has the last word
      // (the Worker answers 401 TOKEN_REVOKED).
      return new Response(null, { status: 401 });
    }
    if (this.#roomId === null) {
      this.#roomId = admission.roomId;
      this.#organizationId = admission.actor.organizationId;
      await this.ctx.storage.put({ roomId: this.#roomId, organizationId: this.#organizationId });
    }
    const wasEmpty = index.size === 0;
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
    // The snapshot is the one part of a join that grows with the room (SPEC §4): peers as JSON, joined once.
    const peers = [...index.values()].map((m) => m.presence.json).join(',');
    const member = this.#add(server, signet);
    const view = JSON.stringify(roomView(signet.actor));
    sendText(
      server,
      `{"type":"welcome","connectionId":"${signet.connectionId}","actor":${view},"peers":[${peers}],"seq":${this.#seq}}`,
    );
    this.#presence.join(member.presence);
    this.#schedulePresence();
    await this.#scheduleAlarm(signet.expiresAt * 1000);
    if (wasEmpty) this.#report(this.#registry()?.register(admission.roomId));
    const headers = admission.subprotocol ? { 'sec-websocket-protocol': SUBPROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.#index();
    // Not in the index: the room closed this connection (revoked, expired) and applies nothing more from it.
    const member = this.#bySocket.get(ws);
    if (!member) return;
    const signet = member.signet;
    if (Date.now() >= signet.expiresAt * 1000) return this.#closeMember(member, CLOSE.TOKEN_EXPIRED, 'token expired');
    const size = typeof message === 'string' ? encoder.encode(message).byteLength : message.byteLength;
    if (size > MAX_FRAME_BYTES) return this.#closeMember(member, CLOSE.FRAME_TOO_LARGE, 'frame too large');
    if (!this.#allow(signet.connectionId)) {
      return this.#strike(member, 'RATE_LIMITED', 'Too many frames; slow down.');
    }
    let frame: ClientFrame;
    try {
      if (typeof message !== 'string') throw new Error('binary');
      frame = ClientFrame.parse(JSON.parse(message));
    } catch {
      return this.#strike(member, 'VALIDATION_FAILED', 'The frame is not a valid signet.v1 frame.');
    }
    switch (frame.type) {
      case 'ping':
        return send(ws, { type: 'pong' });
      case 'publish':
        return this.#publish(member, frame.data);
      case 'reauth':
        return this.#reauth(member, frame.token);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.#index();
    try {
      // Completes a close the client started (the hibernation API leaves the reply to the room).
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
    this.#gone(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#index();
    this.#gone(ws);
  }

  /** Closes every connection whose token has expired (heap order, no scan), then waits for the next expiry. */
  override async alarm(): Promise<void> {
    this.#index();
    this.#alarmAt = null;
    for (const { connectionId } of this.#expiry.due(Date.now(), this.#isLive)) {
      const member = this.#byId?.get(connectionId);
      if (member) this.#closeMember(member, CLOSE.TOKEN_EXPIRED, 'token expired');
    }
    const next = this.#expiry.next(this.#isLive);
    if (next) await this.#scheduleAlarm(next.at);
  }

  /**
   * Closes the connections of one actor (member removed, role changed, API key revoked): 4003. When it
   * returns, the room applies no further frame of theirs and admits no connection with a token issued
   * before now.
   */
  async revokeActor(type: 'user' | 'service' | 'agent', id: string): Promise<number> {
    this.#index();
    const tag = actorTag(type, id);
    const revokedAt = Date.now();
    this.#denied.set(tag, revokedAt);
    // Not awaited on purpose: the output gate holds this call's answer until the write is durable.
    void this.ctx.storage.put(`denied:${tag}`, revokedAt);
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(tag)) {
      const member = this.#bySocket.get(ws);
      if (member) {
        this.#closeMember(member, CLOSE.ACCESS_REVOKED, 'access revoked');
        closed += 1;
      }
    }
    if (closed > 0) {
      log({
        level: 'info',
        msg: 'room connections revoked',
        roomId: this.#roomId ?? undefined,
        actor: { type, id },
        code: String(closed),
      });
    }
    return closed;
  }

  /** Closes every connection (document deleted, organization closed). */
  async closeAll(code: number = CLOSE.ACCESS_REVOKED, reason = 'access revoked'): Promise<number> {
    const index = this.#index();
    const members = [...index.values()];
    for (const member of members) this.#closeMember(member, code, reason);
    return members.length;
  }

  /** Observability for tests and benchmarks: open connections, the current `seq`, pending presence. */
  async stats(): Promise<{ connections: number; seq: number; phase: string; presencePending: boolean }> {
    const index = this.#index();
    return { connections: index.size, seq: this.#seq, phase: this.#phase, presencePending: this.#presence.pending };
  }

  /** The index, read from the attachments once per wake-up (after hibernation the sockets are new objects). */
  #index(): Map<string, Member> {
    if (this.#byId) return this.#byId;
    this.#byId = new Map();
    this.#bySocket = new Map();
    this.#expiry = new ExpiryHeap();
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = ws.deserializeAttachment() as Attachment | null;
      if (attachment?.closing) continue;
      const signet = readAttachment(attachment);
      // Whatever its readyState: a socket whose close woke the room is still listed, and must be
      // in the index for its leave to be announced.
      if (signet) this.#add(ws, signet);
    }
    return this.#byId;
  }

  #add(ws: WebSocket, signet: Signet): Member {
    const member: Member = { ws, signet, presence: presenceEntry(signet) };
    this.#byId!.set(signet.connectionId, member);
    this.#bySocket.set(ws, member);
    this.#expiry.push({ at: signet.expiresAt * 1000, connectionId: signet.connectionId });
    return member;
  }

  /** Whether a heap entry still describes an open connection's current expiry. */
  readonly #isLive = (entry: { at: number; connectionId: string }): boolean =>
    this.#byId?.get(entry.connectionId)?.signet.expiresAt === entry.at / 1000;

  /** Takes a connection out of the room: index, rate state, presence; the last one out unregisters the room. */
  #remove(member: Member): void {
    const index = this.#byId!;
    if (!index.delete(member.signet.connectionId)) return;
    this.#bySocket.delete(member.ws);
    this.#limits.delete(member.signet.connectionId);
    this.#presence.leave(member.presence);
    this.#schedulePresence();
    if (index.size === 0 && this.#roomId) this.#report(this.#registry()?.unregister(this.#roomId));
  }

  /**
   * A close the room starts: marked in the attachment first (so no later frame is applied, across a
   * hibernation too), announced as a leave at once, then the close frame.
   */
  #closeMember(member: Member, code: number, reason: string): void {
    try {
      member.ws.serializeAttachment({ closing: true, signet: member.signet } satisfies Attachment);
    } catch {
      // a socket already closed: nothing more can arrive from it anyway
    }
    this.#remove(member);
    try {
      member.ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  #gone(ws: WebSocket): void {
    const member = this.#bySocket.get(ws);
    if (member) {
      this.#remove(member);
      return;
    }
    // Woken by this very close, the room may not list the socket any more when it reads the index:
    // its leave is announced from the attachment (unless the room closed it, and announced it, itself).
    const attachment = ws.deserializeAttachment() as Attachment | null;
    const signet = attachment?.closing ? null : readAttachment(attachment);
    if (!signet) return;
    this.#limits.delete(signet.connectionId);
    this.#presence.leave(presenceEntry(signet));
    this.#schedulePresence();
    if (this.#index().size === 0 && this.#roomId) this.#report(this.#registry()?.unregister(this.#roomId));
  }

  #schedulePresence(): void {
    if (this.#presenceTimer !== undefined || !this.#presence.pending) return;
    this.#presenceTimer = setTimeout(() => {
      this.#presenceTimer = undefined;
      this.#flushPresence();
    }, PRESENCE_WINDOW_MS);
  }

  /** One presence frame per open connection for the whole batch. */
  #flushPresence(): void {
    if (!this.#presence.pending) return;
    const frameFor = this.#presence.take();
    for (const member of this.#index().values()) {
      const text = frameFor(member.signet.connectionId);
      if (text !== null) sendText(member.ws, text);
    }
  }

  #publish(member: Member, data: unknown): void {
    // Gate before: the permission is checked on every frame, from the restored actor.
    if (!can(websocketActor(member.signet), 'rooms:publish')) {
      send(member.ws, { type: 'error', code: 'INSUFFICIENT_PERMISSIONS', message: 'Publishing needs rooms:publish.' });
      return;
    }
    const json = JSON.stringify(data);
    if (encoder.encode(json).byteLength > MAX_DATA_BYTES) {
      this.#closeMember(member, CLOSE.FRAME_TOO_LARGE, 'data over 16 KiB');
      return;
    }
    // Presence first, so no socket hears from a peer it has not been told about.
    this.#flushPresence();
    this.#seq += 1;
    // Not awaited on purpose: the output gate holds every frame sent below until this write is durable,
    // so no client ever sees a seq that a restart could hand out again.
    void this.ctx.storage.put('seq', this.#seq);
    const text = `{"type":"message","from":${member.presence.json},"data":${json},"seq":${this.#seq},"at":"${new Date().toISOString()}"}`;
    for (const other of this.#index().values()) sendText(other.ws, text);
  }

  async #reauth(member: Member, token: string): Promise<void> {
    const signet = member.signet;
    try {
      const actor = await resolveBearer(token, this.env, () => openDatabase(this.env));
      if (
        actor.type !== signet.actor.type ||
        actor.id !== signet.actor.id ||
        actor.organizationId !== signet.actor.organizationId
      ) {
        return send(member.ws, {
          type: 'error',
          code: 'INVALID_TOKEN',
          message: 'The token is for another actor or organization.',
        });
      }
      // Revoked or closed while the token was being checked: nothing to renew.
      if (this.#bySocket.get(member.ws) !== member) return;
      const renewed: Signet = {
        ...signet,
        actor: actor as typeof actor & { organizationId: string },
        expiresAt: Math.max(signet.expiresAt, actor.token.expiresAt),
      };
      member.ws.serializeAttachment({ signet: renewed } satisfies Attachment);
      member.signet = renewed;
      this.#expiry.push({ at: renewed.expiresAt * 1000, connectionId: renewed.connectionId });
      const next = this.#expiry.next(this.#isLive);
      if (next) await this.#scheduleAlarm(next.at);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'INVALID_TOKEN';
      send(member.ws, {
        type: 'error',
        code,
        message: 'The token was not accepted; the connection keeps its old expiry.',
      });
    }
  }

  #strike(member: Member, code: string, message: string): void {
    const signet = member.signet;
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
    if (limits.strikes >= MAX_STRIKES) this.#closeMember(member, CLOSE.RATE_LIMITED, 'rate limited');
    else send(member.ws, { type: 'error', code, message });
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

  /** Moves the alarm earlier when `at` comes first; a storage write only then (joins with later expiries cost none). */
  async #scheduleAlarm(at: number): Promise<void> {
    if (this.#alarmAt !== null && this.#alarmAt <= at && this.#alarmAt >= Date.now()) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
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

function presenceEntry(signet: Signet): PresenceEntry {
  return { connectionId: signet.connectionId, json: JSON.stringify(peerOf(signet)) };
}

function peerOf(signet: Signet): Peer {
  return { connectionId: signet.connectionId, actor: roomView(signet.actor) };
}

function send(ws: WebSocket, frame: ServerFrame): void {
  sendText(ws, JSON.stringify(frame));
}

function sendText(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // the socket is closing: its close handler takes it out of the room
  }
}
