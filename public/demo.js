// The demo page: sign in with the dev grant, list documents, join a room with the browser credentials
// of SPEC §4 (subprotocols "signet.v1" + "bearer.<token>"), show presence and messages live.
const $ = (id) => document.getElementById(id);
const state = { token: null, actor: null, socket: null, peers: new Map(), me: null };

function label(actor) {
  return `${actor.role ?? actor.type} ${actor.id.slice(0, 8)}`;
}

async function api(path, init = {}) {
  const headers = { 'content-type': 'application/json', ...(state.token ? { authorization: `Bearer ${state.token}` } : {}) };
  const response = await fetch(path, { ...init, headers });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
  return body;
}

async function signIn(email) {
  try {
    const body = await api('/v1/auth/token', {
      method: 'POST',
      body: JSON.stringify({ grant_type: 'dev', email, organization: $('org').value.trim() }),
    });
    state.token = body.access_token;
    state.actor = body.actor;
    $('whoami').textContent = `Signed in as ${email} (${body.actor.role}).`;
    $('whoami').className = '';
    await listDocuments();
  } catch (error) {
    $('whoami').textContent = String(error.message);
    $('whoami').className = 'error';
  }
}

async function listDocuments() {
  const { documents } = await api('/v1/documents');
  const list = $('document-list');
  list.replaceChildren(
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
  const items = [...state.peers.values()].map((peer) => {
    const item = document.createElement('li');
    item.textContent = peer.connectionId === state.me ? `${label(peer.actor)} (you)` : label(peer.actor);
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

function join(doc) {
  state.socket?.close(1000, 'switching rooms');
  state.peers.clear();
  $('messages').replaceChildren();
  $('room').hidden = false;
  $('room-title').textContent = `— ${doc.title}`;
  $('status').textContent = 'Connecting…';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/v1/rooms/${doc.id}`, ['signet.v1', `bearer.${state.token}`]);
  state.socket = socket;
  socket.addEventListener('message', (event) => {
    const frame = JSON.parse(event.data);
    switch (frame.type) {
      case 'welcome':
        state.me = frame.connectionId;
        state.peers.set(frame.connectionId, { connectionId: frame.connectionId, actor: frame.actor });
        for (const peer of frame.peers) state.peers.set(peer.connectionId, peer);
        $('status').textContent = `Connected as ${label(frame.actor)}; room at seq ${frame.seq}.`;
        break;
      case 'joined':
        state.peers.set(frame.connectionId, frame);
        log(`${label(frame.actor)} joined`, 'system');
        break;
      case 'left':
        state.peers.delete(frame.connectionId);
        log(`${label(frame.actor)} left`, 'system');
        break;
      case 'message':
        log(`#${frame.seq} ${label(frame.from.actor)}: ${typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data)}`);
        break;
      case 'error':
        log(`error ${frame.code}: ${frame.message}`, 'system');
        break;
    }
    renderPresence();
  });
  socket.addEventListener('close', (event) => {
    if (state.socket === socket) $('status').textContent = `Disconnected (close code ${event.code}${event.reason ? `: ${event.reason}` : ''}).`;
  });
}

for (const button of document.querySelectorAll('[data-email]')) {
  button.addEventListener('click', () => signIn(button.dataset.email));
}
$('publish').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text || state.socket?.readyState !== WebSocket.OPEN) return;
  state.socket.send(JSON.stringify({ type: 'publish', data: text }));
  $('text').value = '';
});
