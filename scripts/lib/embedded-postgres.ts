/**
 * The embedded database for local development and tests: PGlite (Postgres compiled to WASM) served
 * over the Postgres wire protocol by pglite-socket, so every client (migrations, the Neon bridge) talks
 * to it exactly as it would to a real server. Owns start-up and shutdown; knows nothing of Signet's
 * schema.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A connection string for any Postgres client, e.g. `postgresql://postgres@127.0.0.1:5433/postgres`. */
  readonly url: string;
  close(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** A folder that keeps the data between runs; in memory when absent. */
  dataDir?: string;
  /** 0 picks a free port. */
  port?: number;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const db = await PGlite.create(options.dataDir ?? 'memory://');
  // pglite-socket multiplexes connections onto PGlite's single session and keeps each transaction on
  // its own connection; 16 is ample for the bridge's pool.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port ?? 0, maxConnections: 16 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const hostPort = server.getServerConn();
  return {
    url: `postgresql://postgres@${hostPort}/postgres`,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
