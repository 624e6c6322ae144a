/**
 * A fault-injecting HTTP proxy in front of the local Neon bridge, for the fault tests: it forwards the
 * driver's requests unchanged until told to fail, so a test can take "the database" away in the middle
 * of a load and bring it back, without stopping the real database behind it.
 *
 * Faults, set through control endpoints (the tests run inside workerd and can only reach it over HTTP):
 * - `POST /__fault/down`: every request's connection is destroyed before anything is forwarded — the
 *   database is unreachable and nothing can be written;
 * - `POST /__fault/stall`: every request is held, never forwarded and never answered — the database has
 *   stopped answering (a frozen process, a black-holed network) and nothing can be written;
 * - `POST /__fault/up`: forward again; connections held until then are destroyed unanswered (a `stall`'s
 *   were never forwarded, a `stall-reply`'s was);
 * - `POST /__fault/arm {match, fault}`: a one-shot fault on the next request whose body contains
 *   `match` — `drop-reply` forwards it and then destroys the connection instead of answering (the
 *   write landed, its client never learns it), `stall-reply` forwards it and then holds the answer
 *   until `up` (the write landed, its answer never comes), `down-after` answers it and then goes down;
 * - `GET /__fault/stats`: `{ mode, forwarded, refused, dropped, held }`.
 *
 * It forwards HTTP only (the driver's `/sql` queries), never a WebSocket; it listens on loopback only
 * and is a test tool, never deployed.
 */
import http from 'node:http';
import type net from 'node:net';

export type FaultMode = 'up' | 'down' | 'stall';
export type ArmedFault = 'drop-reply' | 'stall-reply' | 'down-after';
const ARMED_FAULTS: readonly string[] = ['drop-reply', 'stall-reply', 'down-after'] satisfies ArmedFault[];

export interface FaultProxy {
  /** Base URL, e.g. `http://127.0.0.1:5481`: use it as the Worker's `DATABASE_PROXY_URL`. */
  readonly url: string;
  close(): Promise<void>;
}

interface Armed {
  match: string;
  fault: ArmedFault;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let mode: FaultMode = 'up';
  let armed: Armed[] = [];
  const stats = { forwarded: 0, refused: 0, dropped: 0, held: 0 };
  /** Connections held by `stall` or `stall-reply`, destroyed unanswered when the database is back. */
  let holding: net.Socket[] = [];
  const hold = (socket: net.Socket) => {
    stats.held += 1;
    holding.push(socket);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  const control = async (req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> => {
    if (req.method === 'GET' && path === '/__fault/stats') return send(res, 200, { mode, ...stats });
    if (req.method === 'POST' && path === '/__fault/down') mode = 'down';
    else if (req.method === 'POST' && path === '/__fault/stall') mode = 'stall';
    else if (req.method === 'POST' && path === '/__fault/up') {
      mode = 'up';
      armed = [];
      // destroy, not resetAndDestroy: a reset of a connection its client has already given up on left
      // Node spinning at exit, in its handle cleanup, after the test run (seen with Node 22).
      for (const socket of holding) socket.destroy();
      holding = [];
    } else if (req.method === 'POST' && path === '/__fault/arm') {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as Partial<Armed>;
      if (typeof body.match !== 'string' || !ARMED_FAULTS.includes(body.fault ?? ''))
        return send(res, 400, { message: `expected {match, fault: ${ARMED_FAULTS.join(' | ')}}` });
      armed.push({ match: body.match, fault: body.fault as ArmedFault });
    } else return send(res, 404, { message: 'not found' });
    send(res, 200, { mode, armed: armed.length });
  };

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    try {
      if (path.startsWith('/__fault/')) return await control(req, res, path);
      if (mode === 'down') {
        stats.refused += 1;
        req.socket.resetAndDestroy();
        return;
      }
      const body = await readBody(req);
      if (mode === 'stall') return hold(req.socket);
      const text = body.toString('utf8');
      const fault = armed.find((a) => text.includes(a.match));
      if (fault) armed = armed.filter((a) => a !== fault);
      const answer = await forward(agent, upstream, req, body);
      stats.forwarded += 1;
      if (fault?.fault === 'drop-reply') {
        stats.dropped += 1;
        req.socket.resetAndDestroy();
        return;
      }
      if (fault?.fault === 'stall-reply') return hold(req.socket);
      if (fault?.fault === 'down-after') mode = 'down';
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      // The bridge itself is unreachable: answer as it would for an unreachable database.
      if (!res.headersSent) send(res, 503, { message: 'database unavailable' });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

interface Answer {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

function forward(agent: http.Agent, upstream: URL, req: http.IncomingMessage, body: Buffer): Promise<Answer> {
  const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
  delete headers.connection;
  return new Promise((resolve, reject) => {
    const request = http.request(
      { agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (response) => {
        readBody(response).then(
          (answer) =>
            resolve({
              status: response.statusCode ?? 502,
              headers: { 'content-type': response.headers['content-type'] ?? 'application/json' },
              body: answer,
            }),
          reject,
        );
      },
    );
    request.once('error', reject);
    request.end(body);
  });
}

function readBody(stream: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        stream.destroy();
        reject(new Error('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
