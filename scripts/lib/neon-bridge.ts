/**
 * A local stand-in for Neon's edge proxy, so the Worker's `@neondatabase/serverless` driver reaches a
 * plain Postgres (the embedded one, or a server on this machine) exactly as it reaches Neon:
 *
 * - `POST /sql` speaks Neon's HTTP query protocol: one query, or a batch `{ queries }` run as one
 *   transaction (the `Neon-Batch-*` headers choose its isolation), results as raw text in array mode.
 * - `GET /v2?address=host:port&secret=…` upgraded to a WebSocket is piped to the database over TCP, as
 *   Neon's WebSocket proxy does for the driver's `Pool`/`Client`.
 *
 * It runs SQL as the database's own user (a superuser locally), so it is locked to its one caller, the
 * Worker (issue 13: a web page in the developer's browser must not reach it):
 * - a **per-run secret** (random, made at start) is the password of the connection string the Worker
 *   gets (`connectionString`, its `DATABASE_URL`); `/sql` needs it in `Neon-Connection-String`, `/v2`
 *   as `secret` — missing or wrong is 401. The real password, if any, stays here and never reaches the Worker;
 * - it reaches **one database**: the connection string must name the configured host, port, user and
 *   database, and `/v2` relays only to that host:port — anything else is 403;
 * - a request with an `Origin` header (every browser `POST` and WebSocket sends one) is 403, and so is a
 *   `Host` other than the bridge's own loopback address (DNS rebinding);
 * - it listens on loopback only, and refuses to start for a database that is not on loopback.
 *
 * It counts database round trips (one per HTTP query request, one per WebSocket message from the
 * driver) for tests and `npm run bench`: `GET /__bridge/stats` (`?suite=X`: only requests whose connection
 * string carries `signet_suite=X`), `POST /__bridge/reset`. It is a development tool, never deployed.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import pg from 'pg';

export interface NeonBridge {
  /** Base URL, e.g. `http://127.0.0.1:5480`: the Worker's `DATABASE_PROXY_URL`. */
  readonly url: string;
  readonly port: number;
  /**
   * The Worker's `DATABASE_URL`: the configured database's, with this run's secret as its password
   * (e.g. `postgresql://postgres:<secret>@127.0.0.1:5433/postgres`). Keep it out of logs.
   */
  readonly connectionString: string;
  close(): Promise<void>;
}

export interface NeonBridgeOptions {
  /** The one database the bridge reaches: a loopback Postgres connection string (its password stays here). */
  database: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** A loopback address; 127.0.0.1 by default. */
  host?: string;
}

interface QueryRequest {
  query: string;
  params?: unknown[];
}

// Loaded with require: bundler-style resolution (vitest's global setup) would pick ws's browser stub.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;
const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
};

// The driver parses values itself (`Neon-Raw-Text-Output`), so hand every value back as Postgres text.
const rawText = { getTypeParser: () => (value: string) => value };

export async function startNeonBridge(options: NeonBridgeOptions): Promise<NeonBridge> {
  const target = new URL(options.database);
  if (!isLoopback(target.hostname)) throw new Error('the local bridge only reaches a database on loopback');
  const listenHost = options.host ?? '127.0.0.1';
  if (!isLoopback(listenHost)) throw new Error('the local bridge only listens on loopback');
  const targetPort = target.port || '5432';
  const secret = randomBytes(32).toString('base64url');
  const secretDigest = digest(secret);
  const authorized = (candidate: string | null) =>
    candidate !== null && candidate !== '' && timingSafeEqual(digest(candidate), secretDigest);
  let ownHosts = new Set<string>();

  let roundTrips = 0;
  /**
   * Round trips per `signet_suite` parameter of the connection string, so a test counting its own
   * requests isn't disturbed by test files running in parallel (the parameter is dropped before connecting).
   */
  const roundTripsBySuite = new Map<string, number>();
  const connectTo = new URL(target);
  connectTo.search = ''; // drop driver hints such as application_name/sslmode the local server doesn't need
  const pool = new pg.Pool({
    connectionString: connectTo.toString(),
    max: 8,
    types: rawText,
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', () => {}); // an idle client's dropped connection; the next checkout reconnects

  /** The request's connection string names this run's secret and the configured database, or it is refused. */
  const checkConnectionString = (connectionString: string | undefined): void => {
    let named: URL;
    try {
      named = new URL(connectionString ?? '');
    } catch {
      throw new BridgeRefusal(401, 'a Neon-Connection-String with this run’s secret is required');
    }
    if (!authorized(safeDecode(named.password))) {
      throw new BridgeRefusal(401, 'a Neon-Connection-String with this run’s secret is required');
    }
    const same =
      sameHost(named.hostname, target.hostname) &&
      (named.port || '5432') === targetPort &&
      named.username === target.username &&
      named.pathname === target.pathname;
    if (!same) throw new BridgeRefusal(403, 'the local bridge only reaches its configured database');
  };

  /** Refuses what a browser or a DNS-rebound page could send: any `Origin`, a `Host` not our own. */
  const checkCaller = (req: http.IncomingMessage): void => {
    if (req.headers.origin !== undefined) throw new BridgeRefusal(403, 'requests from web pages are refused');
    if (!ownHosts.has(String(req.headers.host ?? '').toLowerCase())) throw new BridgeRefusal(403, 'unexpected Host');
  };

  const server = http.createServer(async (req, res) => {
    try {
      checkCaller(req);
      const url = new URL(req.url ?? '/', 'http://bridge');
      if (req.method === 'GET' && url.pathname === '/__bridge/stats') {
        const suite = url.searchParams.get('suite');
        return send(res, 200, { roundTrips: suite === null ? roundTrips : (roundTripsBySuite.get(suite) ?? 0) });
      }
      if (req.method === 'POST' && url.pathname === '/__bridge/reset') {
        roundTrips = 0;
        return send(res, 200, { roundTrips });
      }
      if (req.method !== 'POST' || url.pathname !== '/sql') return send(res, 404, { message: 'not found' });
      const connectionString = req.headers['neon-connection-string'];
      checkConnectionString(typeof connectionString === 'string' ? connectionString : undefined);
      roundTrips += 1;
      const suite = suiteOf(connectionString as string);
      if (suite) roundTripsBySuite.set(suite, (roundTripsBySuite.get(suite) ?? 0) + 1);
      const body = JSON.parse(await readBody(req)) as QueryRequest | { queries: QueryRequest[] };
      if ('queries' in body) {
        const results = await runBatch(pool, body.queries, req.headers);
        return send(res, 200, { results });
      }
      const client = await pool.connect();
      try {
        return send(res, 200, toNeonResult(await client.query(asArrayQuery(body))));
      } finally {
        client.release();
      }
    } catch (error) {
      if (error instanceof BridgeRefusal) return send(res, error.status, { message: error.message });
      if (error instanceof SyntaxError) return send(res, 400, { message: 'malformed request body' });
      if (isPostgresError(error)) {
        const fields = Object.fromEntries(
          ERROR_FIELDS.map((f) => [f, (error as unknown as Record<string, unknown>)[f]]),
        );
        return send(res, 400, { message: error.message, ...fields });
      }
      // The database is unreachable (refused, reset, timed out): Neon answers such cases with a 5xx.
      return send(res, 503, { message: 'database unavailable' });
    }
  });

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    try {
      checkCaller(req);
      if (url.pathname !== '/v2') throw new BridgeRefusal(404, 'not found');
      if (!authorized(url.searchParams.get('secret'))) throw new BridgeRefusal(401, 'this run’s secret is required');
      const address = url.searchParams.get('address') ?? '';
      const colon = address.lastIndexOf(':');
      const [host, port] = [address.slice(0, colon), address.slice(colon + 1)];
      if (colon < 0 || !sameHost(host, target.hostname) || port !== targetPort) {
        throw new BridgeRefusal(403, 'the local bridge only relays to its configured database');
      }
    } catch (error) {
      const status = error instanceof BridgeRefusal ? error.status : 400;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const tcp = net.connect(Number(targetPort), target.hostname.replace(/^\[|\]$/g, ''));
      tcp.on('data', (chunk) => ws.send(chunk));
      tcp.on('close', () => ws.close());
      tcp.on('error', () => ws.close());
      ws.on('message', (data) => {
        roundTrips += 1;
        tcp.write(data as Buffer);
      });
      ws.on('close', () => tcp.destroy());
      ws.on('error', () => tcp.destroy());
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, listenHost, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  ownHosts = new Set(['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${address.port}`));
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const connectionString = new URL(target);
  connectionString.password = secret;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    connectionString: connectionString.toString(),
    async close() {
      for (const ws of sockets.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

async function runBatch(pool: pg.Pool, queries: QueryRequest[], headers: http.IncomingHttpHeaders) {
  const isolation = ISOLATION_LEVELS[String(headers['neon-batch-isolation-level'] ?? '')];
  const begin = [
    'BEGIN',
    isolation ? `ISOLATION LEVEL ${isolation}` : '',
    headers['neon-batch-read-only'] === 'true' ? 'READ ONLY' : '',
    headers['neon-batch-deferrable'] === 'true' ? 'DEFERRABLE' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const results = [];
    for (const query of queries) results.push(toNeonResult(await client.query(asArrayQuery(query))));
    await client.query('COMMIT');
    return results;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

function asArrayQuery(query: QueryRequest): pg.QueryArrayConfig {
  return { text: query.query, values: query.params ?? [], rowMode: 'array' };
}

function toNeonResult(result: pg.QueryArrayResult) {
  return {
    fields: result.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: f.format,
    })),
    command: result.command,
    rowCount: result.rowCount,
    rows: result.rows,
    rowAsArray: true,
  };
}

class BridgeRefusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function isPostgresError(error: unknown): error is Error & { code: string } {
  // A SQLSTATE is five characters; Node's own errors (ECONNREFUSED, …) are longer. Class 08 is a
  // connection failure and 57P0x a server shutdown: both mean "unavailable", not a query error.
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57P0');
}

function suiteOf(connectionString: string): string | null {
  try {
    return new URL(connectionString).searchParams.get('signet_suite');
  } catch {
    return null;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/** Host names compared as the connection string spells them: the bridge hands out that exact one. */
function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BridgeRefusal(413, 'query too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
