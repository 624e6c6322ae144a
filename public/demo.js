// The demo page, built on Signet's typed client (src/client, bundled to /client/signet.js by
// `npm run dev`): sign in with the dev grant, list documents, join a room — the client sends the
// browser credentials of SPEC §4 (subprotocols "signet.v1" + "bearer.<token>"), re-authenticates
// before the token expires and reconnects with backoff — and show presence and messages live, and the
// document itself as a collaborative editor: a textarea bound to the room's Yjs text (`room.doc`), with the
// names of who is in it from the room-stamped awareness (`room.awareness`). Viewers get it read-only; the
// room refuses their edits anyway.
import { createClient } from '/client/signet.js';

const $ = (id) => document.getElementById(id);
const state = { token: null, client: null, room: null, email: null, role: null };
// For the browser test: the page's state (its room, the role it signed in with).
window.signetDemo = state;
/** The origin of edits typed into this page's textarea. */
const TYPED = 'typed';
const anonymous = createClient({ baseUrl: location.origin });

function label(actor) {
  return `${actor.role ?? actor.type} ${actor.id.slice(0, 8)}`;
}

async function signIn(email) {
  const organization = $('org').value.trim();
  try {
    // A short-lived token, renewed on demand: the room re-authenticates with a fresh one before expiry.
    const fresh = async () =>
      (await anonymous.exchangeToken({ grant_type: 'dev', email, organization, ttl_seconds: 300 })).access_token;
    const first = await anonymous.exchangeToken({ grant_type: 'dev', email, organization, ttl_seconds: 300 });
    state.token = first.access_token;
    state.email = email;
    state.role = first.actor.role;
    state.client = createClient({ baseUrl: location.origin, getToken: fresh });
    $('whoami').textContent = `Signed in as ${email} (${first.actor.role}).`;
    $('whoami').className = '';
    await listDocuments();
  } catch (error) {
    $('whoami').textContent = error.code ? `${error.code}: ${error.message}` : String(error);
    $('whoami').className = 'error';
  }
}

async function listDocuments() {
  const { documents } = await state.client.documents.list();
  $('document-list').replaceChildren(
    ...documents.map((doc) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.textContent = `${doc.title} (${doc.visibility})`;
      button.dataset.documentId = doc.id;
      button.addEventListener('click', () => join(doc));
      item.append(button);
      return item;
    }),
  );
  $('documents').hidden = false;
}

function renderPresence() {
  const room = state.room;
  const items = [...(room?.peers.values() ?? [])].map((peer) => {
    const item = document.createElement('li');
    item.textContent = peer.connectionId === room.connectionId ? `${label(peer.actor)} (you)` : label(peer.actor);
    item.dataset.actorId = peer.actor.id;
    return item;
  });
  $('presence').replaceChildren(...items);
}

function log(text, kind = '') {
  const item = document.createElement('li');
  item.textContent = text;
  if (kind) item.className = kind;
  $('messages').append(item);
  $('messages').scrollTop = $('messages').scrollHeight;
}

/** The one span where `from` and `to` differ: [start, deleted, inserted]. */
function changedSpan(from, to) {
  let start = 0;
  while (start < from.length && start < to.length && from[start] === to[start]) start++;
  let end = 0;
  while (end < from.length - start && end < to.length - start && from[from.length - 1 - end] === to[to.length - 1 - end])
    end++;
  return [start, from.length - start - end, to.slice(start, to.length - end)];
}

/** Binds the textarea to the room's Yjs text: typing becomes Yjs changes, others' changes move the text. */
function bindEditor(room) {
  const area = $('body');
  const text = room.doc.getText('body');
  const readOnly = state.role === 'viewer';
  area.readOnly = readOnly;
  area.disabled = true;
  area.value = '';
  $('doc-status').textContent = readOnly ? '(read-only: viewers may not edit)' : '';
  let shown = '';
  room.synced().then(() => {
    shown = text.toString();
    area.value = shown;
    area.disabled = false;
    area.placeholder = readOnly ? '' : 'Type here…';
  });
  area.oninput = () => {
    const [start, deleted, inserted] = changedSpan(shown, area.value);
    room.doc.transact(() => {
      if (deleted > 0) text.delete(start, deleted);
      if (inserted) text.insert(start, inserted);
    }, TYPED);
    shown = area.value;
  };
  text.observe((event, transaction) => {
    if (transaction.origin === TYPED) return;
    // Keep the caret where it was in the text around it.
    let [s, e] = [area.selectionStart, area.selectionEnd];
    let index = 0;
    for (const op of event.delta) {
      if (op.retain) index += op.retain;
      else if (op.insert) {
        const n = op.insert.length;
        if (index < s) s += n;
        if (index < e) e += n;
        index += n;
      } else if (op.delete) {
        if (index < s) s -= Math.min(op.delete, s - index);
        if (index < e) e -= Math.min(op.delete, e - index);
      }
    }
    shown = text.toString();
    area.value = shown;
    if (document.activeElement === area) area.setSelectionRange(s, e);
  });
  room.awareness.setLocalState({ name: state.email });
  room.awareness.on('change', () => {
    const names = [...room.awareness.getStates().entries()].map(([clientId, s]) => {
      // The room-stamped actor first; `name` is whatever that client chose to say about itself.
      const who = clientId === room.doc.clientID ? 'you' : s.signet ? label(s.signet) : '?';
      const item = document.createElement('span');
      item.textContent = `${who}: ${s.name ?? ''}`;
      return item;
    });
    $('editing').replaceChildren(...names);
  });
}

function join(doc) {
  state.room?.close();
  $('messages').replaceChildren();
  $('room').hidden = false;
  $('room-title').textContent = `— ${doc.title}`;
  $('status').textContent = 'Connecting…';
  const room = state.client.room(doc.id);
  state.room = room;
  bindEditor(room);
  room.on('welcome', (w) => {
    $('status').textContent = `Connected as ${label(w.actor)}; room at seq ${w.seq}.`;
    renderPresence();
  });
  // Presence comes as `joined`/`left` or, coalesced, as `presence` frames (SPEC §4); the client turns
  // both into one `presence` event per frame, so the list is redrawn once per batch.
  room.on('presence', ({ joined, left }) => {
    for (const p of left) log(`${label(p.actor)} left`, 'system');
    for (const p of joined) log(`${label(p.actor)} joined`, 'system');
    renderPresence();
  });
  room.on('message', (m) => {
    const text = typeof m.data === 'string' ? m.data : JSON.stringify(m.data);
    log(`#${m.seq} ${label(m.from.actor)}: ${text}`);
  });
  room.on('error', (e) => log(`error ${e.code}: ${e.message}`, 'system'));
  room.on('revoked', () => log('access revoked (4003): not reconnecting', 'system'));
  room.on('closed', (e) => {
    if (state.room !== room) return;
    $('status').textContent = `Disconnected (close code ${e.code})${e.reconnecting ? '; reconnecting…' : '.'}`;
  });
}

for (const button of document.querySelectorAll('[data-email]')) {
  button.addEventListener('click', () => signIn(button.dataset.email));
}
$('publish').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text || state.room?.state !== 'open') return;
  state.room.publish(text);
  $('text').value = '';
});
