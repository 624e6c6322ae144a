/**
 * The room protocol of SPEC §4: frames, close codes and limits. Shared by the Durable Object and the
 * Worker; knows nothing of either.
 */
import * as z from 'zod';

export const SUBPROTOCOL = 'signet.v1';
export const BEARER_PREFIX = 'bearer.';

export const CLOSE = {
  TOKEN_EXPIRED: 4001,
  ACCESS_REVOKED: 4003,
  RATE_LIMITED: 4008,
  FRAME_TOO_LARGE: 4009,
  INTERNAL_ERROR: 1011,
} as const;

/** `publish.data` at most 16 KiB of JSON (SPEC §4). */
export const MAX_DATA_BYTES = 16 * 1024;
/** A whole frame: the data plus a small envelope. */
export const MAX_FRAME_BYTES = MAX_DATA_BYTES + 1024;
/** Token bucket per connection: a burst of 30 frames, 15 a second sustained. */
export const RATE_BURST = 30;
export const RATE_PER_SECOND = 15;
/** Refused frames (rate, form, permission, a refused reauth) before the connection is closed with 4008… */
export const MAX_STRIKES = 10;
/** …each within this long of the one before: a quiet minute forgives them (SPEC §4: a sustained flood). */
export const STRIKE_WINDOW_MS = 60_000;

export const ClientFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('publish'), data: z.json() }),
  z.strictObject({ type: z.literal('reauth'), token: z.string().min(1).max(4096) }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** What a room shows of an actor: no token, no scopes. */
/** `{type, id, role?}` for users and services; `{type: "agent", id, onBehalfOf, name}` for agents (SPEC §4). */
export type RoomActorView =
  | { type: 'user' | 'service'; id: string; role?: string }
  | { type: 'agent'; id: string; onBehalfOf: { type: 'user'; id: string }; name: string };

export interface Peer {
  connectionId: string;
  actor: RoomActorView;
}

export type ServerFrame =
  | { type: 'welcome'; connectionId: string; actor: RoomActorView; peers: Peer[]; seq: number }
  | { type: 'joined' | 'left'; connectionId: string; actor: RoomActorView }
  | { type: 'presence'; joined: Peer[]; left: Peer[] }
  | { type: 'message'; from: Peer; data: unknown; seq: number; at: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' };
