/**
 * The binary half of the room protocol (SPEC §4.1): y-websocket frames — a varuint message type (`0` sync,
 * `1` awareness) then the y-protocols payload. Decoding is strict (a frame is exactly one message, with no
 * trailing bytes) and never applies anything: the room decides what a frame may do before any of it
 * touches the document.
 *
 * Doesn't own: the document, who may write (room.ts), awareness state (awareness.ts).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync';

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;

/** A binary message over 256 KiB (its WebSocket payload) closes with 4009 (SPEC §4.1). */
export const MAX_BINARY_BYTES = 256 * 1024;

/** One client's awareness entry as it travels: its state is JSON text, `null` when it left. */
export interface AwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  readonly state: string;
}

export type YjsFrame =
  | { readonly kind: 'sync-step-1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'sync-step-2'; readonly update: Uint8Array }
  | { readonly kind: 'update'; readonly update: Uint8Array }
  | { readonly kind: 'awareness'; readonly entries: readonly AwarenessEntry[] };

/** Awareness entries one frame may carry: a client announces itself; only a server relays many. */
const MAX_AWARENESS_ENTRIES = 64;

/** Decodes one client frame; throws (any error) on anything malformed. */
export function decodeYjsFrame(bytes: Uint8Array): YjsFrame {
  const decoder = decoding.createDecoder(bytes);
  const type = decoding.readVarUint(decoder);
  let frame: YjsFrame;
  if (type === MESSAGE_SYNC) {
    const step = decoding.readVarUint(decoder);
    const payload = decoding.readVarUint8Array(decoder);
    if (step === messageYjsSyncStep1) frame = { kind: 'sync-step-1', stateVector: payload };
    else if (step === messageYjsSyncStep2) frame = { kind: 'sync-step-2', update: payload };
    else if (step === messageYjsUpdate) frame = { kind: 'update', update: payload };
    else throw new Error('unknown sync step');
  } else if (type === MESSAGE_AWARENESS) {
    const inner = decoding.createDecoder(decoding.readVarUint8Array(decoder));
    const count = decoding.readVarUint(inner);
    if (count > MAX_AWARENESS_ENTRIES) throw new Error('too many awareness entries');
    const entries: AwarenessEntry[] = [];
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(inner);
      const clock = decoding.readVarUint(inner);
      const state = decoding.readVarString(inner);
      entries.push({ clientId, clock, state });
    }
    if (decoding.hasContent(inner)) throw new Error('trailing awareness bytes');
    frame = { kind: 'awareness', entries };
  } else {
    throw new Error('unknown message type');
  }
  if (decoding.hasContent(decoder)) throw new Error('trailing bytes');
  return frame;
}

export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  return encodeSync(messageYjsSyncStep1, stateVector);
}

export function encodeSyncStep2(update: Uint8Array): Uint8Array {
  return encodeSync(messageYjsSyncStep2, update);
}

export function encodeUpdate(update: Uint8Array): Uint8Array {
  return encodeSync(messageYjsUpdate, update);
}

function encodeSync(step: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  encoding.writeVarUint(encoder, step);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

export function encodeAwareness(entries: Iterable<AwarenessEntry>): Uint8Array {
  const inner = encoding.createEncoder();
  const list = [...entries];
  encoding.writeVarUint(inner, list.length);
  for (const entry of list) {
    encoding.writeVarUint(inner, entry.clientId);
    encoding.writeVarUint(inner, entry.clock);
    encoding.writeVarString(inner, entry.state);
  }
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, encoding.toUint8Array(inner));
  return encoding.toUint8Array(encoder);
}
