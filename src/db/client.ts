/**
 * The request path's database handle: `@neondatabase/serverless` over HTTP in development, tests and
 * production alike. HTTP suits Workers (no connection to keep per isolate), and a batch of statements
 * is one HTTP request run as one transaction — which is how a tenant-scoped read or write costs one
 * round trip (see `session.ts`). Locally, `DATABASE_PROXY_URL` points the driver at the Neon bridge.
 */
import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle, type NeonHttpDatabase } from 'drizzle-orm/neon-http';
import type { Env } from '../env.ts';
import { DatabaseUnavailable } from '../errors.ts';
import * as schema from './schema.ts';

export type Database = NeonHttpDatabase<typeof schema>;

const handles = new Map<string, Database>();

export function openDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_PROXY_URL'>): Database {
  const url = env.DATABASE_URL;
  if (!url) throw new DatabaseUnavailable('No database is configured (DATABASE_URL).');
  const proxy = env.DATABASE_PROXY_URL ?? '';
  const key = `${proxy}\n${url}`;
  let db = handles.get(key);
  if (!db) {
    const sql = neon(url);
    db = drizzle({ client: sql, schema });
    handles.set(key, db);
  }
  if (proxy) useLocalProxy(proxy);
  return db;
}

/**
 * neonConfig is module-global in the driver; within one Worker every request sees the same
 * environment, so setting it from the bindings is stable.
 */
function useLocalProxy(proxy: string): void {
  const base = new URL(proxy);
  neonConfig.fetchEndpoint = () => new URL('/sql', base).toString();
  neonConfig.wsProxy = () => `${base.host}/v2`;
  neonConfig.useSecureWebSocket = base.protocol === 'https:';
  neonConfig.pipelineConnect = false;
}
