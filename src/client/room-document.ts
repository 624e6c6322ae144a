/**
 * A room's collaborative document from the client's side (SPEC §4.1): a Y.Doc and its awareness kept in
 * sync over the room's own socket, with y-protocols' sync and awareness messages — the provider logic of
 * y-websocket, on the connection `SignetRoom` already holds (one socket, one credential, one presence).
 * A stock provider (y-websocket, y-partyserver) opens a socket of its own and can't share this one.
 *
 * Unlike y-websocket it sends only this client's own awareness: the room refuses entries for other
 * client ids (echoes of states it relayed are tolerated, not needed).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;

/** The origin of changes that came from the room (never sent back). */
const FROM_ROOM = Symbol('room');

export class RoomDocument {
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  /** Whether the document holds the room's state since the last (re)connection. */
  synced = false;
  readonly #send: (bytes: Uint8Array) => void;
  readonly #onSynced = new Set<() => void>();

  constructor(send: (bytes: Uint8Array) => void, doc = new Y.Doc()) {
    this.doc = doc;
    this.awareness = new awarenessProtocol.Awareness(doc);
    this.#send = send;
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === FROM_ROOM) return;
      this.#send(message(MESSAGE_SYNC, (encoder) => syncProtocol.writeUpdate(encoder, update)));
    });
    this.awareness.on('update', ({ added, updated, removed }: AwarenessChange, origin: unknown) => {
      if (origin === FROM_ROOM) return;
      const own = [...added, ...updated, ...removed].filter((id) => id === doc.clientID);
      if (own.length > 0) this.#sendAwareness(own);
    });
  }

  /** The shared text that is the document's `body`. */
  get text(): Y.Text {
    return this.doc.getText('body');
  }

  /** Resolves when the document holds the room's state. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.#onSynced.add(resolve));
  }

  /** The socket (re)opened: this side's sync step 1 and its awareness, as a provider sends them. */
  connected(): void {
    this.synced = false;
    this.#send(message(MESSAGE_SYNC, (encoder) => syncProtocol.writeSyncStep1(encoder, this.doc)));
    if (this.awareness.getLocalState() !== null) this.#sendAwareness([this.doc.clientID]);
  }

  /** The socket closed: everyone else's awareness is gone until the next welcome. */
  disconnected(): void {
    this.synced = false;
    const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.doc.clientID);
    awarenessProtocol.removeAwarenessStates(this.awareness, others, FROM_ROOM);
  }

  /** A binary frame from the room. Malformed ones are ignored (the room only sends what it decoded). */
  receive(bytes: Uint8Array): void {
    try {
      const decoder = decoding.createDecoder(bytes);
      const type = decoding.readVarUint(decoder);
      if (type === MESSAGE_SYNC) {
        const reply = encoding.createEncoder();
        encoding.writeVarUint(reply, MESSAGE_SYNC);
        const step = syncProtocol.readSyncMessage(decoder, reply, this.doc, FROM_ROOM);
        if (encoding.length(reply) > 1) this.#send(encoding.toUint8Array(reply));
        if (step === syncProtocol.messageYjsSyncStep2 && !this.synced) {
          this.synced = true;
          for (const resolve of this.#onSynced) resolve();
          this.#onSynced.clear();
        }
      } else if (type === MESSAGE_AWARENESS) {
        awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), FROM_ROOM);
      }
    } catch {
      // not a frame this client understands
    }
  }

  destroy(): void {
    this.awareness.destroy();
  }

  #sendAwareness(clients: number[]): void {
    this.#send(
      message(MESSAGE_AWARENESS, (encoder) =>
        encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients)),
      ),
    );
  }
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

function message(type: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  write(encoder);
  return encoding.toUint8Array(encoder);
}
