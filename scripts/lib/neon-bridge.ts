/**
 * A local stand-in for Neon's edge proxy, so the Worker's `@neondatabase/serverless` driver reaches a
 * plain Postgres (the embedded one, or a server on this machine) exactly as it reaches Neon:
 *
 * - `POST /sql` speaks Neon's HTTP query protocol: one query, or a batch `{ queries }` run as one
 *   transaction (the `Neon-Batch-*` headers choose its isolation), results as raw text in array mode.
 * - `GET /v2?address=host:port` upgraded to a WebSocket is piped to that Postgres over TCP, as Neon's
 *   WebSocket proxy does for the driver's `Pool`/`Client`.
 *
 * It counts database round trips (one per HTTP query request, one per WebSocket message from the
 * driver) for tests and `npm run bench`: `GET /__bridge/stats` (`?suite=X`: only requests whose connection
 * string carries `signet_suite=X`), `POST /__bridge/reset`.
 * It only ever connects to loopback addresses; it is a development tool, never deployed.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import pg from 'pg';

export interface NeonBridge {
  /** Base URL, e.g. `http://127.0.0.1:5480`: the Worker's `DATABASE_PROXY_URL`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
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

export async function startNeonBridge(options: { port?: number; host?: string } = {}): Promise<NeonBridge> {
  const pools = new Map<string, pg.Pool>();
  let roundTrips = 0;
  /**
   * Round trips per `signet_suite` parameter of the connection string, so a test counting its own
   * requests isn't disturbed by test files running in parallel (the parameter is dropped before connecting).
   */
  const roundTripsBySuite = new Map<string, number>();

  const poolFor = (connectionString: string): pg.Pool => {
    const target = new URL(connectionString);
    if (!isLoopback(target.hostname)) throw new BridgeRefusal(403, 'the local bridge only reaches loopback databases');
    target.search = ''; // drop driver hints such as application_name/sslmode the local server doesn't need
    const key = target.toString();
    let pool = pools.get(key);
    if (!pool) {
      pool = new pg.Pool({ connectionString: key, max: 8, types: rawText, connectionTimeoutMillis: 5_000 });
      pool.on('error', () => {}); // an idle client's dropped connection; the next checkout reconnects
      pools.set(key, pool);
    }
    return pool;
  };

  const server = http.createServer(async (req, res) => {
    try {
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
      roundTrips += 1;
      const connectionString = req.headers['neon-connection-string'];
      if (typeof connectionString !== 'string') return send(res, 400, { message: 'missing Neon-Connection-String' });
      const suite = suiteOf(connectionString);
      if (suite) roundTripsBySuite.set(suite, (roundTripsBySuite.get(suite) ?? 0) + 1);
      const body = JSON.parse(await readBody(req)) as QueryRequest | { queries: QueryRequest[] };
      const pool = poolFor(connectionString);
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
    const [host, port] = (url.searchParams.get('address') ?? '').split(':');
    if (url.pathname !== '/v2' || !host || !port || !isLoopback(host)) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const tcp = net.connect(Number(port), host);
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
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    port: address.port,
    async close() {
      for (const ws of sockets.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((pool) => pool.end()));
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
