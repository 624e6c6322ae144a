/**
 * A room's collaborative document (SPEC §4.1): the Yjs state of one document, durable in the Durable
 * Object's SQLite storage, and what it knows of the document's row in Postgres.
 *
 * Owns:
 * - persistence: every change is one row of `yjs_updates` (written synchronously, so the output gate holds
 *   every frame that reports it until it is durable), compacted after a save into one row; the state is
 *   rebuilt from these rows after hibernation, eviction or a restart, as the same Yjs items;
 * - the checks a change must pass before it is applied (nothing new? over the body or state cap?);
 * - the link to Postgres: the `version` and body last in step with the database (the *base*, kept as a Yjs
 *   snapshot too), which editors' changes are not saved yet, and the three-way merge that turns a body
 *   saved over HTTP into a Yjs change relative to that base — so concurrent edits on either side survive.
 *
 * Doesn't own: who may write (room.ts, per frame), the database session (services/collaboration.ts).
 */
import * as Y from 'yjs';
import { MAX_BODY_CHARS } from '../contract/requests.ts';

/**
 * The stored state's cap: an update that would grow the compacted state past 1 MiB is refused
 * (`PAYLOAD_TOO_LARGE`). Far above a 60,000-character body with its history, and well under SQLite's
 * 2 MB value limit for the compacted row.
 */
export const MAX_STATE_BYTES = 1024 * 1024;

/** Rows of saved changes past which a save compacts them into one. */
const COMPACT_AFTER_ROWS = 64;

/** What a save writes, captured at one instant (the document may change while the save is under way). */
export interface SaveCapture {
  readonly body: string;
  readonly version: number;
  readonly upToSeq: number;
  readonly editors: readonly Editor[];
  readonly snapshot: Uint8Array;
}

/** Who made a change, as the audit trail names them. */
export interface Editor {
  readonly principal: { readonly type: string; readonly id: string };
  readonly onBehalfOf: { readonly type: 'user'; readonly id: string } | null;
}

type SqlValue = ArrayBuffer | string | number | null;

/**
 * The part of the Durable Object's `Sql` this module uses, written out so the module also runs on
 * another SQLite (`npm run bench` times it over node:sqlite).
 */
export interface Sql {
  exec<T extends Record<string, SqlValue>>(
    query: string,
    ...bindings: unknown[]
  ): Iterable<T> & {
    one(): T;
    toArray(): T[];
  };
}

export type Refusal = 'PAYLOAD_TOO_LARGE' | 'VALIDATION_FAILED';

/** The origin of a change that came from Postgres (a body saved over HTTP), not from a connection. */
export const FROM_DATABASE = Symbol('database');

export class SharedDocument {
  readonly doc: Y.Doc;
  readonly #sql: Sql;
  #storedBytes = 0;
  #lastSeq = 0;
  #base: BaseRow;
  /** The editor of the change being applied, recorded with its row. */
  #editor: Editor | null = null;

  private constructor(sql: Sql, doc: Y.Doc, base: BaseRow) {
    this.#sql = sql;
    this.doc = doc;
    this.#base = base;
    doc.on('update', (update: Uint8Array) => {
      const seq = this.#lastSeq + 1;
      this.#sql.exec(
        'insert into yjs_updates (seq, data, editor) values (?, ?, ?)',
        seq,
        update,
        editorJson(this.#editor),
      );
      this.#lastSeq = seq;
      this.#storedBytes += update.byteLength;
    });
  }

  /** The stored document, or null when this room has none yet. */
  static open(sql: Sql): SharedDocument | null {
    // Looked up, not created: a room that never held a document writes nothing to its storage.
    const exists = sql.exec("select 1 from sqlite_master where type = 'table' and name = 'yjs_base'").toArray();
    if (exists.length === 0) return null;
    const base = readBase(sql);
    if (!base) return null;
    const doc = new Y.Doc();
    let bytes = 0;
    let last = 0;
    Y.transact(doc, () => {
      for (const row of sql.exec<{ seq: number; data: ArrayBuffer }>(
        'select seq, data from yjs_updates order by seq',
      )) {
        const update = new Uint8Array(row.data);
        Y.applyUpdate(doc, update);
        bytes += update.byteLength;
        last = row.seq;
      }
    });
    const shared = new SharedDocument(sql, doc, base);
    shared.#storedBytes = bytes;
    shared.#lastSeq = last;
    return shared;
  }

  /** A new document from the stored `body`; its initial Yjs state is persisted at once (SPEC §4.1). */
  static create(sql: Sql, body: string, version: number): SharedDocument {
    migrate(sql);
    const doc = new Y.Doc();
    const initial = { version, body, savedSeq: 0, snapshot: new Uint8Array() };
    const shared = new SharedDocument(sql, doc, initial);
    doc.getText('body').insert(0, body);
    shared.#setBase({ version, body, savedSeq: shared.#lastSeq, snapshot: Y.encodeStateAsUpdate(doc) });
    return shared;
  }

  get body(): string {
    return this.doc.getText('body').toString();
  }

  /** The Postgres `version` this state was last in step with. */
  get version(): number {
    return this.#base.version;
  }

  /** The body last in step with Postgres. */
  get savedBody(): string {
    return this.#base.body;
  }

  /** Whether some applied change is not saved to Postgres yet. */
  get dirty(): boolean {
    return this.#lastSeq > this.#base.savedSeq && this.#unsavedEditors().length > 0;
  }

  /** Forgets the document (it was deleted): its state leaves this room's storage. */
  purge(): void {
    this.doc.destroy();
    this.#sql.exec('drop table if exists yjs_updates; drop table if exists yjs_base');
  }

  /** Whether `update` would change nothing here: no unknown item, no deletion not already applied. */
  bringsNothing(update: Uint8Array): boolean {
    const { structs, ds } = Y.decodeUpdate(update);
    const known = Y.decodeStateVector(Y.encodeStateVector(this.doc));
    for (const struct of structs) {
      if (struct instanceof Y.Skip) continue;
      if (struct.id.clock + struct.length > (known.get(struct.id.client) ?? 0)) return false;
    }
    if (ds.clients.size === 0) return true;
    // Range against range (never clock by clock: a frame may repeat a long range thousands of times).
    const deleted = Y.createDeleteSetFromStructStore(this.doc.store);
    for (const [client, ranges] of ds.clients) {
      const known = deleted.clients.get(client) ?? [];
      for (const range of ranges) if (!covered(known, range.clock, range.clock + range.len)) return false;
    }
    return true;
  }

  /**
   * Why `update` can't be applied, or null when it can. Never changes the document. Reads only the update's
   * clock ranges (no struct is built): a gap is a range starting past what this room has of that client; the
   * characters it may insert are bounded by its new clock range (a clock advances by each item's length).
   */
  refusal(update: Uint8Array): Refusal | null {
    const { from, to } = Y.parseUpdateMeta(update);
    let inserted = 0;
    for (const [client, start] of from) {
      const known = Y.getState(this.doc.store, client);
      if (start > known) return 'VALIDATION_FAILED';
      inserted += Math.max(0, (to.get(client) ?? start) - known);
    }
    if (this.#storedBytes + update.byteLength > MAX_STATE_BYTES) {
      if (Y.encodeStateAsUpdate(this.doc).byteLength + update.byteLength > MAX_STATE_BYTES) return 'PAYLOAD_TOO_LARGE';
    }
    if (this.doc.getText('body').length + inserted > MAX_BODY_CHARS) {
      // The bound can't tell a replacement near the cap from a growth past it: try it on a copy.
      const trial = new Y.Doc();
      Y.applyUpdate(trial, Y.encodeStateAsUpdate(this.doc));
      Y.applyUpdate(trial, update);
      if (trial.getText('body').length > MAX_BODY_CHARS) return 'PAYLOAD_TOO_LARGE';
    }
    return null;
  }

  /** Applies a change that passed `refusal`; `origin` is passed to the document's update listeners. */
  /**
   * Applies a change that passed `refusal`. Returns false when part of it built on items this room doesn't
   * have (an origin or parent it never received): that part is discarded, never kept pending — a pending
   * struct would be applied later, inside someone else's change, recorded and audited as theirs, and after
   * its sender's access may have ended.
   */
  apply(update: Uint8Array, origin: unknown, editor: Editor): boolean {
    this.#editor = editor;
    try {
      Y.applyUpdate(this.doc, update, origin);
    } finally {
      this.#editor = null;
    }
    const store = this.doc.store;
    if (store.pendingStructs === null && store.pendingDs === null) return true;
    store.pendingStructs = null;
    store.pendingDs = null;
    return false;
  }

  /** What a save would write, now. */
  capture(): SaveCapture {
    return {
      body: this.body,
      version: this.#base.version,
      upToSeq: this.#lastSeq,
      editors: this.#unsavedEditors(),
      snapshot: Y.encodeStateAsUpdate(this.doc),
    };
  }

  /** The capture is in Postgres as `version`: it becomes the base, and saved changes are compacted. */
  saved(capture: SaveCapture, version: number): void {
    this.#setBase({ version, body: capture.body, savedSeq: capture.upToSeq, snapshot: capture.snapshot });
    this.#compact(capture);
  }

  /**
   * Postgres holds `body` at `version` (a PATCH, or a save that found a newer row): the change from the base
   * to it becomes a Yjs change relative to the base, so the room's unsaved edits and the saved body both
   * survive. Returns false when the version is not newer than the base.
   */
  mergeFromDatabase(body: string, version: number): boolean {
    if (version <= this.#base.version) return false;
    const base = new Y.Doc();
    Y.applyUpdate(base, this.#base.snapshot);
    const before = Y.encodeStateVector(base);
    replaceChangedSpan(base.getText('body'), this.#base.body, body);
    const change = Y.encodeStateAsUpdate(base, before);
    const { savedSeq } = this.#base;
    Y.applyUpdate(this.doc, change, FROM_DATABASE);
    // The database's change is saved by definition; the room's own unsaved rows stay unsaved.
    this.#setBase({ version, body, savedSeq, snapshot: Y.encodeStateAsUpdate(base) });
    return true;
  }

  #unsavedEditors(): Editor[] {
    const rows = this.#sql.exec<{ editor: string }>(
      'select distinct editor from yjs_updates where seq > ? and editor is not null',
      this.#base.savedSeq,
    );
    return [...rows].map((row) => JSON.parse(row.editor) as Editor);
  }

  #setBase(base: BaseRow): void {
    this.#base = base;
    this.#sql.exec(
      `insert into yjs_base (id, version, body, saved_seq, snapshot) values (1, ?, ?, ?, ?)
       on conflict (id) do update set version = excluded.version, body = excluded.body,
         saved_seq = excluded.saved_seq, snapshot = excluded.snapshot`,
      base.version,
      base.body,
      base.savedSeq,
      base.snapshot,
    );
  }

  /** Replaces the saved rows by one (the state they add up to); unsaved rows keep their editors. */
  #compact(capture: SaveCapture): void {
    const { count } = this.#sql
      .exec<{ count: number }>('select count(*) as count from yjs_updates where seq <= ?', capture.upToSeq)
      .one();
    if (count < COMPACT_AFTER_ROWS && this.#storedBytes < 2 * capture.snapshot.byteLength + 64 * 1024) return;
    // The capture's snapshot is the whole state as of `upToSeq`, garbage-collected (deleted text is gone,
    // unlike a merge of the rows, which keeps every insertion ever made). Written before anything is
    // deleted, so a failure leaves the rows as they were.
    this.#sql.exec(
      `insert into yjs_updates (seq, data, editor) values (?, ?, null)
       on conflict (seq) do update set data = excluded.data, editor = null`,
      capture.upToSeq,
      capture.snapshot,
    );
    this.#sql.exec('delete from yjs_updates where seq < ?', capture.upToSeq);
    const { bytes } = this.#sql
      .exec<{ bytes: number }>('select coalesce(sum(length(data)), 0) as bytes from yjs_updates')
      .one();
    this.#storedBytes = bytes;
  }
}

interface BaseRow {
  version: number;
  body: string;
  savedSeq: number;
  snapshot: Uint8Array;
}

/** Each editor's JSON, made once (the room keeps one `Editor` per connection). */
const editorJsons = new WeakMap<Editor, string>();

function editorJson(editor: Editor | null): string | null {
  if (!editor) return null;
  let json = editorJsons.get(editor);
  if (json === undefined) {
    json = JSON.stringify(editor);
    editorJsons.set(editor, json);
  }
  return json;
}

function migrate(sql: Sql): void {
  sql.exec(`create table if not exists yjs_updates (seq integer primary key autoincrement, data blob not null, editor text);
    create table if not exists yjs_base (id integer primary key check (id = 1), version integer not null,
      body text not null, saved_seq integer not null, snapshot blob not null)`);
}

function readBase(sql: Sql): BaseRow | null {
  const rows = [
    ...sql.exec<{ version: number; body: string; saved_seq: number; snapshot: ArrayBuffer }>(
      'select version, body, saved_seq, snapshot from yjs_base where id = 1',
    ),
  ];
  const row = rows[0];
  if (!row) return null;
  return { version: row.version, body: row.body, savedSeq: row.saved_seq, snapshot: new Uint8Array(row.snapshot) };
}

/**
 * Turns `text` (equal to `from`) into `to` by replacing the one span where they differ (the common prefix
 * and suffix stay as they are, so concurrent edits there are untouched).
 */
function replaceChangedSpan(text: Y.Text, from: string, to: string): void {
  let start = 0;
  const shorter = Math.min(from.length, to.length);
  while (start < shorter && from.charCodeAt(start) === to.charCodeAt(start)) start++;
  let end = 0;
  while (end < shorter - start && from.charCodeAt(from.length - 1 - end) === to.charCodeAt(to.length - 1 - end)) end++;
  // Never split a surrogate pair: the span starts and ends on whole characters.
  if (start > 0 && isHighSurrogate(from.charCodeAt(start - 1))) start--;
  if (end > 0 && isHighSurrogate(from.charCodeAt(from.length - end - 1))) end--;
  const deleted = from.length - start - end;
  const inserted = to.slice(start, to.length - end);
  text.doc!.transact(() => {
    if (deleted > 0) text.delete(start, deleted);
    if (inserted) text.insert(start, inserted);
  });
}

/** Whether the sorted, merged `ranges` cover all of [from, to). */
function covered(ranges: readonly { clock: number; len: number }[], from: number, to: number): boolean {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const range = ranges[middle]!;
    if (range.clock + range.len <= from) low = middle + 1;
    else if (range.clock > from) high = middle - 1;
    else return to <= range.clock + range.len;
  }
  return false;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
