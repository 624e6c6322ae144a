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
 * Collaborative documents (SPEC §4.1): binary frames speak the y-websocket protocol on the same socket.
 * The Yjs state is a `SharedDocument` (durable in this object's SQLite storage); every write is
 * authorized per frame from the restored actor (`documents:write`) before any of it is applied, stored
 * or broadcast; awareness is stamped by the room (`awareness.ts`); the `body` text is saved to Postgres
 * by the alarm, at most `SAVE_DELAY_MS` after the first unsaved edit, audited as the actors whose edits
 * it holds; a body saved over HTTP arrives through `mergeBody`.
 *
 * Doesn't own: token verification at the upgrade (the Worker), who may join (the `rooms:join` policy,
 * checked by the Worker before the upgrade).
 */
import { DurableObject } from 'cloudflare:workers';
import * as Y from 'yjs';
import { chainOf, onBehalfOfActor, principalOf } from '../actor/actor.ts';
import { openDatabase } from '../db/client.ts';
import type { Env } from '../env.ts';
import { clientErrorCode } from '../errors.ts';
import { resolveBearer } from '../identity/resolve-bearer.ts';
import { log } from '../observability/log.ts';
import { can } from '../policy/authorize.ts';
import { readStoredBody, roomSaveLanded, saveRoomBody } from '../services/collaboration.ts';
import {
  type Admission,
  type Attachment,
  actorTag,
  chainTags,
  readAttachment,
  readAwareness,
  readStrikes,
  roomView,
  websocketActor,
} from './attachment.ts';
import { type ConnectionAwareness, RoomAwareness } from './awareness.ts';
import { ExpiryHeap } from './expiry.ts';
import { liveDenials, ORGANIZATION_TAG } from './organization-rooms.ts';
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
  STRIKE_WINDOW_MS,
  SUBPROTOCOL,
} from './protocol.ts';
import { type Editor, type SaveCapture, SharedDocument } from './shared-document.ts';
import {
  type AwarenessEntry,
  decodeYjsFrame,
  encodeAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  MAX_BINARY_BYTES,
} from './yjs-frames.ts';

/** What the room knows of one connection (the framework's part of its attachment). */
type Connection = Attachment['signet'];

interface Limits {
  tokens: number;
  at: number;
}

/** An open connection as the index holds it. */
interface Member {
  readonly ws: WebSocket;
  signet: Connection;
  /** `{"connectionId":…,"actor":…}`, serialized once at the join. */
  readonly presence: PresenceEntry;
  /** Its Yjs awareness: the client id it is bound to and its latest stamped state. */
  awareness: ConnectionAwareness | undefined;
  /** Whom its edits are audited as, made at its first edit (the actor never changes on a connection). */
  editor?: Editor;
  /** Its recent refused frames and when the last came, kept in its attachment (across hibernation). */
  strikes: { count: number; at: number };
}

const encoder = new TextEncoder();

/** The body is saved this long after the first unsaved edit: `GET /v1/documents/:id` is at most ~5 s behind. */
export const SAVE_DELAY_MS = 2_000;
/** After a failed save (the database did not answer), the next attempt. */
const SAVE_RETRY_MS = 5_000;
/** A binary frame costs a quarter of a JSON frame's rate token: a typist sends an update and a cursor per key. */
const BINARY_FRAME_COST = 0.25;

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
   * Links of chains revoked here (`actorTag` → revoked at, in milliseconds), pushed here or handed over by
   * the organization's registry when the room registers; `ORGANIZATION_TAG` stands for every actor of the
   * organization. An admission whose chain holds one, with a token issued before, is refused.
   */
  readonly #denied = new Map<string, number>();
  /**
   * Whether the last call this room made to its organization's registry (`OrgRooms`) was `register`:
   * a room with connections is listed there, so revocations reach it. Calls go out one at a time, in
   * order (`#registryCalls`), so a late `unregister` never delists a room that has connections again.
   */
  #registered = false;
  /** A registration on its way: joins wait for it (and the revocations it brings) before they are admitted. */
  #registering: Promise<void> | null = null;
  readonly #registryCalls = new InOrder();
  /** The Yjs document; `undefined` until first needed after a wake-up, `null` while the room holds none. */
  #shared: SharedDocument | null | undefined;
  /** Loading the document for a join (it may read Postgres); concurrent joins share it. */
  #loading: Promise<SharedDocument | null> | null = null;
  readonly #awareness = new RoomAwareness();
  /** Database work on the document (a save, a merged PATCH), one at a time, in order. */
  readonly #databaseWork = new InOrder();
  /**
   * A save sent to Postgres whose answer never came (it may have landed): settled, by its audit events,
   * before the room merges anything from Postgres — else it would merge its own saved edits a second time.
   */
  #unconfirmed: { requestId: string; capture: SaveCapture; actor: { type: string; id: string } } | null = null;
  /** When the pending save is due (ms); null when none is scheduled in this activation. */
  #saveAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<number | string>(['seq', 'roomId', 'organizationId']);
      this.#seq = (stored.get('seq') as number | undefined) ?? 0;
      this.#roomId = (stored.get('roomId') as string | undefined) ?? null;
      this.#organizationId = (stored.get('organizationId') as string | undefined) ?? null;
      this.#alarmAt = await ctx.storage.getAlarm();
      for (const { tag, at } of await liveDenials(ctx.storage)) this.#denied.set(tag, at);
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
    // Admitted by a Worker whose revocation list is older than the revocation (up to 30 s), or while it
    // was being pushed here: the room has the last word (the Worker answers 401 TOKEN_REVOKED).
    if (this.#isDenied(admission.actor)) return new Response(null, { status: 401 });
    if (this.#roomId === null) {
      this.#roomId = admission.roomId;
      this.#organizationId = admission.actor.organizationId;
      await this.ctx.storage.put({ roomId: this.#roomId, organizationId: this.#organizationId });
    }
    let shared: SharedDocument | null;
    try {
      shared = await this.#documentFor(admission);
    } catch (error) {
      this.#reportError('room document load failed', error);
      return new Response(null, { status: 503 });
    }
    // Deleted since the Worker checked it: nothing to join.
    if (!shared) return new Response(null, { status: 404 });
    // Listed by the organization's registry before anyone is admitted, with the revocations it hands
    // over (a room with no connection heard none of them); again if the last connection left meanwhile.
    try {
      await this.#ensureRegistered();
    } catch (error) {
      this.#reportError('room registration failed', error);
      return new Response(null, { status: 503 });
    }
    if (this.#isDenied(admission.actor)) {
      this.#unregisterIfEmpty();
      return new Response(null, { status: 401 });
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const signet: Connection = {
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
    // Then the document (SPEC §4.1): the room's state vector, and who is in it.
    sendBinary(server, encodeSyncStep1(Y.encodeStateVector(shared.doc)));
    const states = this.#awareness.current();
    if (states.length > 0) sendBinary(server, encodeAwareness(states));
    this.#presence.join(member.presence);
    this.#schedulePresence();
    await this.#scheduleAlarm(signet.expiresAt * 1000);
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
    if (typeof message !== 'string') {
      if (message.byteLength > MAX_BINARY_BYTES)
        return this.#closeMember(member, CLOSE.FRAME_TOO_LARGE, 'frame too large');
      if (!this.#allow(signet.connectionId, BINARY_FRAME_COST)) {
        return this.#strike(member, 'RATE_LIMITED', 'Too many frames; slow down.');
      }
      return this.#yjs(member, new Uint8Array(message));
    }
    if (encoder.encode(message).byteLength > MAX_FRAME_BYTES) {
      return this.#closeMember(member, CLOSE.FRAME_TOO_LARGE, 'frame too large');
    }
    if (!this.#allow(signet.connectionId)) {
      return this.#strike(member, 'RATE_LIMITED', 'Too many frames; slow down.');
    }
    let frame: ClientFrame;
    try {
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
    if (this.#document()?.dirty) await this.#save();
    await this.#scheduleNextAlarm();
  }

  /**
   * A body saved over HTTP (`PATCH`) becomes a Yjs change here (SPEC §4.1), after any save in flight, so a
   * save and a merge never see each other's half. A room that holds no document has nothing to do.
   */
  async mergeBody(body: string, version: number): Promise<void> {
    this.#index();
    await this.#serially(async () => {
      const shared = this.#document();
      if (!shared) return;
      await this.#settleUnconfirmed(shared);
      shared.mergeFromDatabase(body, version);
    });
  }

  /** The document was deleted: every connection closes with 4003 and its Yjs state leaves storage. */
  async deleteDocument(): Promise<number> {
    let closed = await this.closeAll(CLOSE.ACCESS_REVOKED, 'document deleted');
    await this.#serially(async () => {
      this.#document()?.purge();
      this.#shared = null;
    });
    // A join admitted just before the deletion may have completed while the purge waited its turn.
    closed += await this.closeAll(CLOSE.ACCESS_REVOKED, 'document deleted');
    return closed;
  }

  /** Observability for tests: the document's text and saved version, and whether a save is pending. */
  async documentState(): Promise<{ body: string; version: number; dirty: boolean } | null> {
    this.#index();
    const shared = this.#document();
    return shared ? { body: shared.body, version: shared.version, dirty: shared.dirty } : null;
  }

  /**
   * Closes the connections of one actor (member removed, role changed, API key revoked): 4003. When it
   * returns, the room applies no further frame of theirs and admits no connection with a token issued
   * before now.
   */
  async revokeActor(type: 'user' | 'service' | 'agent', id: string, at: number): Promise<number> {
    this.#index();
    const tag = actorTag(type, id);
    this.#deny(tag, at);
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(tag)) {
      const member = this.#bySocket.get(ws);
      // A socket whose token came after the revocation (a member re-added; a late or retried push) stays.
      if (member && this.#isDenied(member.signet.actor)) {
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

  /**
   * Closes every connection (document deleted, organization closed); with `refuseUntil` (ms), also refuses
   * every token of the organization issued up to then (the organization's tokens revoked).
   */
  async closeAll(
    code: number = CLOSE.ACCESS_REVOKED,
    reason = 'access revoked',
    refuseUntil: number | null = null,
  ): Promise<number> {
    const index = this.#index();
    if (refuseUntil !== null) this.#deny(ORGANIZATION_TAG, refuseUntil);
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
      if (!signet) continue;
      const member = this.#add(ws, signet);
      member.awareness = readAwareness(attachment);
      member.strikes = readStrikes(attachment);
      if (member.awareness) this.#awareness.restore(signet.connectionId, member.awareness);
    }
    // A room woken with connections is listed (it registered before admitting the first of them).
    this.#registered = this.#byId.size > 0;
    return this.#byId;
  }

  /** Whether a revocation here covers the actor's token: any link of its chain, or the whole organization. */
  #isDenied(actor: Admission['actor']): boolean {
    const issuedAt = Math.round(actor.token.issuedAt * 1000);
    const covers = (tag: string) => {
      const at = this.#denied.get(tag);
      return at !== undefined && issuedAt <= at;
    };
    return covers(ORGANIZATION_TAG) || chainOf(actor).some((link) => covers(actorTag(link.type, link.id)));
  }

  /** Remembers a revocation (the latest one per link), durably. */
  #deny(tag: string, at: number): void {
    if ((this.#denied.get(tag) ?? 0) >= at) return;
    this.#denied.set(tag, at);
    // Not awaited on purpose: the output gate holds the answer of the call that made it until it is durable.
    void this.ctx.storage.put(`denied:${tag}`, at);
  }

  /** Until the room is listed with no registration on its way (one at a time, shared by concurrent joins). */
  async #ensureRegistered(): Promise<void> {
    while (!this.#registered || this.#registering) {
      this.#registering ??= this.#register().finally(() => {
        this.#registering = null;
      });
      await this.#registering;
    }
  }

  /** Registers the room with its organization's registry and applies the revocations it answers. */
  async #register(): Promise<void> {
    const registry = this.#registry();
    const roomId = this.#roomId;
    if (!registry || !roomId) throw new Error('a room registers once it knows its organization');
    this.#registered = true;
    try {
      const denials = await this.#registryCalls.run(() => registry.register(roomId));
      for (const { tag, at } of denials) this.#deny(tag, at);
    } catch (error) {
      this.#registered = false;
      throw error;
    }
  }

  /**
   * The last connection out delists the room (after any registration still on its way) — whatever
   * `#registered` says: a room woken by its last socket's close may not list that socket any more, and
   * delisting twice is harmless.
   */
  #unregisterIfEmpty(): void {
    const registry = this.#registry();
    const roomId = this.#roomId;
    if (this.#index().size > 0 || !registry || !roomId) return;
    this.#registered = false;
    this.#report(
      this.#registryCalls.run(async () => {
        // A join admitted meanwhile (on the registration still on record) keeps the room listed.
        if (this.#index().size > 0) {
          this.#registered = true;
          return;
        }
        await registry.unregister(roomId);
      }),
    );
  }

  #add(ws: WebSocket, signet: Connection): Member {
    const member: Member = {
      ws,
      signet,
      presence: presenceEntry(signet),
      awareness: undefined,
      strikes: { count: 0, at: 0 },
    };
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
    this.#awarenessLeft(member.awareness);
    this.#unregisterIfEmpty();
  }

  /** A closed connection's awareness state is removed for everyone (SPEC §4.1). */
  #awarenessLeft(awareness: ConnectionAwareness | undefined): void {
    const removed = this.#awareness.remove(awareness?.clientId);
    if (!removed) return;
    const frame = encodeAwareness([removed]);
    for (const other of this.#byId?.values() ?? []) sendBinary(other.ws, frame);
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
    const awareness = readAwareness(attachment);
    if (awareness) {
      this.#awareness.restore(signet.connectionId, awareness);
      this.#awarenessLeft(awareness);
    }
    this.#unregisterIfEmpty();
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
      // A refused frame like any other (SPEC §4.1): it counts towards 4008.
      this.#strike(member, 'INSUFFICIENT_PERMISSIONS', 'Publishing needs rooms:publish.');
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
      // Revoked or closed while the token was being checked: nothing to renew.
      if (this.#bySocket.get(member.ws) !== member) return;
      // A refused reauth is a refused frame (it counts towards 4008; each costs a verification).
      if (
        actor.type !== signet.actor.type ||
        actor.id !== signet.actor.id ||
        actor.organizationId !== signet.actor.organizationId
      ) {
        return this.#strike(member, 'INVALID_TOKEN', 'The token is for another actor or organization.');
      }
      // A token from before a revocation this room knows of (this isolate's list may be older).
      if (this.#isDenied(actor as Admission['actor'])) {
        return this.#strike(member, 'TOKEN_REVOKED', 'The token was revoked.');
      }
      const renewed: Connection = {
        ...signet,
        actor: actor as typeof actor & { organizationId: string },
        expiresAt: Math.max(signet.expiresAt, actor.token.expiresAt),
      };
      member.signet = renewed;
      this.#persist(member);
      this.#expiry.push({ at: renewed.expiresAt * 1000, connectionId: renewed.connectionId });
      const next = this.#expiry.next(this.#isLive);
      if (next) await this.#scheduleAlarm(next.at);
    } catch (error) {
      if (this.#bySocket.get(member.ws) !== member) return;
      // Only a domain error's own code reaches the client (never a SQLSTATE or a runtime's).
      const code = clientErrorCode(error);
      const message = 'The token was not accepted; the connection keeps its old expiry.';
      // The client's fault counts towards 4008; the database's doesn't.
      if (code === 'DATABASE_UNAVAILABLE' || code === 'INTERNAL_ERROR')
        send(member.ws, { type: 'error', code, message });
      else this.#strike(member, code, message);
    }
  }

  /** A connection's attachment as the room knows it now: its actor, awareness and strikes. */
  #persist(member: Member): void {
    try {
      member.ws.serializeAttachment({
        signet: member.signet,
        awareness: member.awareness,
        strikes: member.strikes,
      } satisfies Attachment);
    } catch {
      // the socket is closing: its close handler takes it out of the room
    }
  }

  /**
   * A refused frame: an error frame, or 4008 at the `MAX_STRIKES`th within `STRIKE_WINDOW_MS` of the one
   * before (counted across hibernation; a quiet minute forgives them).
   */
  #strike(member: Member, code: string, message: string): void {
    const signet = member.signet;
    const now = Date.now();
    const count = now - member.strikes.at > STRIKE_WINDOW_MS ? 1 : member.strikes.count + 1;
    member.strikes = { count, at: now };
    const closing = count >= MAX_STRIKES;
    if (!closing) this.#persist(member);
    log({
      level: 'warn',
      msg: closing ? 'room connection closed for abuse' : 'room frame refused',
      code,
      roomId: signet.roomId,
      connectionId: signet.connectionId,
      actor: { type: signet.actor.type, id: signet.actor.id },
      ...(signet.actor.type === 'agent' ? { onBehalfOf: signet.actor.onBehalfOf } : {}),
      organizationId: signet.actor.organizationId,
    });
    if (closing) this.#closeMember(member, CLOSE.RATE_LIMITED, 'rate limited');
    else send(member.ws, { type: 'error', code, message });
  }

  #allow(connectionId: string, cost = 1): boolean {
    const limits = this.#limitsOf(connectionId);
    const now = Date.now();
    limits.tokens = Math.min(RATE_BURST, limits.tokens + ((now - limits.at) / 1000) * RATE_PER_SECOND);
    limits.at = now;
    if (limits.tokens < cost) return false;
    limits.tokens -= cost;
    return true;
  }

  #limitsOf(connectionId: string): Limits {
    let limits = this.#limits.get(connectionId);
    if (!limits) {
      limits = { tokens: RATE_BURST, at: Date.now() };
      this.#limits.set(connectionId, limits);
    }
    return limits;
  }

  /** The next alarm: the earliest live expiry or the pending save. */
  async #scheduleNextAlarm(): Promise<void> {
    const next = this.#expiry.next(this.#isLive)?.at;
    const at = next === undefined ? this.#saveAt : this.#saveAt === null ? next : Math.min(next, this.#saveAt);
    if (at !== null) await this.#scheduleAlarm(at);
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

  // ── Collaborative documents (SPEC §4.1) ──────────────────────────────────────────────────────────

  /** The stored document, read once per wake-up from this object's SQLite storage (synchronous). */
  #document(): SharedDocument | null {
    if (this.#shared === undefined) {
      this.#shared = SharedDocument.open(this.ctx.storage.sql);
      if (this.#shared) this.#listen(this.#shared);
    }
    return this.#shared;
  }

  /**
   * The document for a join: the stored one, caught up with Postgres when the Worker saw a newer version
   * (a PATCH the room missed), or built from the stored `body` on the first join. Null: deleted meanwhile.
   */
  #documentFor(admission: Admission): Promise<SharedDocument | null> {
    const shared = this.#document();
    if (shared && shared.version >= admission.documentVersion) return Promise.resolve(shared);
    this.#loading ??= this.#serially(async () => {
      const stored = await readStoredBody(
        openDatabase(this.env),
        admission.actor.organizationId,
        principalOf(admission.actor),
        admission.roomId,
      );
      if (!stored) return null;
      const current = this.#document();
      if (current) {
        await this.#settleUnconfirmed(current);
        current.mergeFromDatabase(stored.body, stored.version);
        return current;
      }
      const created = SharedDocument.create(this.ctx.storage.sql, stored.body, stored.version);
      this.#listen(created);
      this.#shared = created;
      return created;
    }).finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  /** Every change, whoever made it, goes to every other socket of the room as one update frame. */
  #listen(shared: SharedDocument): void {
    shared.doc.on('update', (update: Uint8Array, origin: unknown) => {
      const frame = encodeUpdate(update);
      for (const other of this.#index().values()) if (other !== origin) sendBinary(other.ws, frame);
    });
  }

  #yjs(member: Member, bytes: Uint8Array): void {
    let frame: ReturnType<typeof decodeYjsFrame>;
    try {
      frame = decodeYjsFrame(bytes);
    } catch {
      this.#strike(member, 'VALIDATION_FAILED', 'The binary frame is not a valid y-websocket message.');
      return;
    }
    if (frame.kind === 'awareness') {
      this.#aware(member, frame.entries);
      return;
    }
    const shared = this.#document();
    // Every join builds the document first; none here means it was deleted and the room is closing.
    if (!shared) return;
    if (frame.kind === 'sync-step-1') {
      let diff: Uint8Array;
      try {
        diff = Y.encodeStateAsUpdate(shared.doc, frame.stateVector);
      } catch {
        this.#strike(member, 'VALIDATION_FAILED', 'The state vector is malformed.');
        return;
      }
      sendBinary(member.ws, encodeSyncStep2(diff));
      return;
    }
    this.#write(member, shared, frame.update);
  }

  /**
   * An update or a sync step 2: gate before — `documents:write` from the restored actor (for anyone else,
   * a frame that brings nothing new is not a write and is ignored) and the caps, all before any of it is
   * applied, stored or broadcast. (An editor's no-op update is applied as it is: Yjs changes nothing.)
   */
  #write(member: Member, shared: SharedDocument, update: Uint8Array): void {
    const actor = websocketActor(member.signet);
    let refusal: ReturnType<SharedDocument['refusal']>;
    try {
      if (!can(actor, 'documents:write')) {
        // Nothing new (a viewer's provider answering the room's sync step 1) is not a write.
        if (shared.bringsNothing(update)) return;
        this.#strike(member, 'INSUFFICIENT_PERMISSIONS', 'Editing needs documents:write.');
        return;
      }
      refusal = shared.refusal(update);
    } catch {
      this.#strike(member, 'VALIDATION_FAILED', 'The Yjs update is malformed.');
      return;
    }
    if (refusal === 'PAYLOAD_TOO_LARGE') {
      this.#strike(member, refusal, 'The edit would make the document larger than its limit.');
      return;
    }
    if (refusal) {
      this.#strike(member, refusal, 'The Yjs update builds on changes this room never received.');
      return;
    }
    member.editor ??= { principal: principalOf(actor), onBehalfOf: onBehalfOfActor(actor) };
    let whole: boolean;
    try {
      whole = shared.apply(update, member, member.editor);
    } catch {
      this.#strike(member, 'VALIDATION_FAILED', 'The Yjs update is malformed.');
      return;
    }
    if (!whole) this.#strike(member, 'VALIDATION_FAILED', 'The Yjs update builds on changes this room never received.');
    if (this.#saveAt === null) {
      const at = Date.now() + SAVE_DELAY_MS;
      this.#saveAt = at;
      // Not awaited on purpose: the output gate holds this frame's effects until the alarm is stored.
      void this.#scheduleAlarm(at);
    }
  }

  /** Awareness entries of one connection: bound to its own client id, stamped with its actor, relayed. */
  #aware(member: Member, entries: readonly AwarenessEntry[]): void {
    const view = roomView(member.signet.actor);
    const accepted: ConnectionAwareness[] = [];
    let refused = false;
    for (const sent of entries) {
      const result = this.#awareness.stamp(member.signet.connectionId, member.awareness?.clientId, sent, view);
      if (result.ok) {
        accepted.push(result.entry);
        member.awareness = result.entry;
      } else if (result.reason !== 'stale') {
        refused = true;
      }
    }
    if (accepted.length > 0) {
      this.#persist(member);
      const frame = encodeAwareness(accepted);
      for (const other of this.#index().values()) if (other !== member) sendBinary(other.ws, frame);
    }
    // Answered, not struck: a client that reconnects while its old socket still holds its id would
    // otherwise be closed for it (and anyone could get a victim's reconnections closed by claiming its id).
    if (refused) {
      send(member.ws, {
        type: 'error',
        code: 'VALIDATION_FAILED',
        message: "Awareness is accepted only for this connection's own Yjs client id.",
      });
    }
  }

  /** Saves the `body` text to Postgres if it has unsaved edits; retried later when the database fails. */
  #save(): Promise<void> {
    this.#saveAt = null;
    return this.#serially(async () => {
      const shared = this.#document();
      if (!shared || !this.#organizationId || !this.#roomId) return;
      try {
        await this.#settleUnconfirmed(shared);
        for (let attempt = 0; attempt < 3 && shared.dirty; attempt++) {
          const capture = shared.capture();
          const [first, ...rest] = capture.editors;
          if (!first) return;
          if (capture.body === shared.savedBody) {
            shared.saved(capture, capture.version);
            return;
          }
          const requestId = `room:${crypto.randomUUID()}`;
          this.#unconfirmed = { requestId, capture, actor: first.principal };
          const result = await saveRoomBody(openDatabase(this.env), {
            organizationId: this.#organizationId,
            documentId: this.#roomId,
            body: capture.body,
            version: capture.version,
            editors: [first, ...rest],
            requestId,
          });
          this.#unconfirmed = null;
          if (result.kind === 'missing') return;
          if (result.kind === 'saved') shared.saved(capture, result.version);
          else if (isOwnSave(capture, result.current)) shared.saved(capture, result.current.version);
          else shared.mergeFromDatabase(result.current.body, result.current.version);
        }
      } catch (error) {
        this.#reportError('room document save failed', error);
        this.#saveAt = Date.now() + SAVE_RETRY_MS;
        return;
      }
      // Edits that arrived while saving wait for the next save.
      if (shared.dirty) this.#saveAt = Date.now() + SAVE_DELAY_MS;
    });
  }

  /** A save whose answer was lost: recorded as saved if it landed (its audit events exist), else forgotten. */
  async #settleUnconfirmed(shared: SharedDocument): Promise<void> {
    const pending = this.#unconfirmed;
    if (!pending || !this.#organizationId) return;
    const landed = await roomSaveLanded(openDatabase(this.env), this.#organizationId, pending.actor, pending.requestId);
    this.#unconfirmed = null;
    if (landed) shared.saved(pending.capture, pending.capture.version + 1);
  }

  /** Runs database work on the document after the work before it (a failure doesn't block the next). */
  #serially<T>(work: () => Promise<T>): Promise<T> {
    return this.#databaseWork.run(work);
  }

  #reportError(msg: string, error: unknown): void {
    log({ level: 'error', msg, roomId: this.#roomId ?? undefined, error: (error as Error)?.name });
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

/** Work run one at a time, in the order it was asked for; a failure doesn't block what follows. */
class InOrder {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

function presenceEntry(signet: Connection): PresenceEntry {
  return { connectionId: signet.connectionId, json: JSON.stringify(peerOf(signet)) };
}

function peerOf(signet: Connection): Peer {
  return { connectionId: signet.connectionId, actor: roomView(signet.actor) };
}

/**
 * A save whose answer was lost finds the row at the next version holding exactly what it wrote: that is
 * the save itself (or an identical one), not a newer body to merge.
 */
function isOwnSave(capture: SaveCapture, current: { body: string; version: number }): boolean {
  return current.version === capture.version + 1 && current.body === capture.body;
}

function sendBinary(ws: WebSocket, bytes: Uint8Array): void {
  try {
    ws.send(bytes);
  } catch {
    // the socket is closing: its close handler takes it out of the room
  }
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
