/** Small helpers for local processes: is a port free, can a database be reached (one clear line if not). */
import net from 'node:net';
import pg from 'pg';

export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** `host:port` of a connection string, never its user or password. */
export function describeDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

export async function checkDatabase(databaseUrl: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    const reason = (error as { code?: string }).code ?? 'unreachable';
    return `cannot reach the database at ${describeDatabase(databaseUrl)} (${reason})`;
  } finally {
    await client.end().catch(() => {});
  }
}
