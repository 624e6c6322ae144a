/**
 * A stock Yjs peer on a room socket, for tests: y-protocols' own sync and awareness code (not Signet's
 * encoders) drives a Y.Doc over the binary frames of SPEC §4.1, as y-websocket's provider does.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import type { RoomClient } from './sockets.ts';

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;

export interface YjsPeer {
  doc: Y.Doc;
  awareness: awarenessProtocol.Awareness;
  text: Y.Text;
  /** Resolves once the peer has the room's state (its sync step 2 arrived). */
  synced: Promise<void>;
  /** Sends a raw binary frame as is. */
  sendRaw(bytes: Uint8Array): void;
  destroy(): void;
}

export function yjsPeer(client: RoomClient, options: { send?: boolean } = {}): YjsPeer {
  const doc = new Y.Doc();
  const awareness = new awarenessProtocol.Awareness(doc);
  const send = (bytes: Uint8Array) => {
    if (options.send !== false && client.ws.readyState === WebSocket.OPEN) client.ws.send(bytes);
  };
  let resolveSynced!: () => void;
  const synced = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });
  const receive = (bytes: Uint8Array) => {
    const decoder = decoding.createDecoder(bytes);
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_SYNC) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      const step = syncProtocol.readSyncMessage(decoder, encoder, doc, 'room');
      if (step === syncProtocol.messageYjsSyncStep2) resolveSynced();
      if (encoding.length(encoder) > 1) send(encoding.toUint8Array(encoder));
    } else if (type === MESSAGE_AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), 'room');
    }
  };
  for (const bytes of client.binary) receive(bytes);
  client.onBinary.add(receive);
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === 'room') return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeUpdate(encoder, update);
    send(encoding.toUint8Array(encoder));
  });
  // Exactly as y-websocket's provider does: every change is sent, remote ones received from the room included.
  awareness.on('update', ({ added, updated, removed }: Record<string, number[]>) => {
    const changed = [...added!, ...updated!, ...removed!];
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, changed));
    send(encoding.toUint8Array(encoder));
  });
  // As y-websocket's provider does on open: its sync step 1.
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(encoder, doc);
  send(encoding.toUint8Array(encoder));
  return {
    doc,
    awareness,
    text: doc.getText('body'),
    synced,
    sendRaw: (bytes) => client.ws.send(bytes),
    destroy() {
      client.onBinary.delete(receive);
      awareness.destroy();
      doc.destroy();
    },
  };
}

/** Polls `check` until it holds (or fails after `ms`). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
