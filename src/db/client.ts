/**
 * The request path's database handle: `@neondatabase/serverless` over HTTP in development, tests and
 * production alike. HTTP suits Workers (no connection to keep per isolate), and a batch of statements
 * is one HTTP request run as one transaction — which is how a tenant-scoped read or write costs one
 * round trip (see `session.ts`). Locally, `DATABASE_PROXY_URL` points the driver at the Neon bridge.
 */
import { type NeonQueryFunction, neon, neonConfig } from '@neondatabase/serverless';
import { drizzle, type NeonHttpDatabase } from 'drizzle-orm/neon-http';
import type { Env } from '../env.ts';
import { DatabaseUnavailable } from '../errors.ts';
import * as schema from './schema.ts';

/**
 * drizzle over the driver; `$client` is the driver itself (`session.ts` sends its batches through it), and
 * `answerWithinMs` how long a batch may wait for its answer before it is given up as unavailable.
 */
export type Database = NeonHttpDatabase<typeof schema> & {
  $client: NeonQueryFunction<false, false>;
  readonly answerWithinMs: number;
};

/** `DATABASE_TIMEOUT_MS` when unset, or not a whole number of milliseconds from 1 to 60,000. */
export const DEFAULT_ANSWER_WITHIN_MS = 10_000;

const handles = new Map<string, Database>();

/**
 * The handle for `env`'s database. A batch waits for its answer at most `answerWithinMs`: by default
 * `DATABASE_TIMEOUT_MS`, the request path's bound (a client is waiting); background work passes its own,
 * sized to the platform limit it runs under (a job's lease, a workflow step's timeout).
 */
export function openDatabase(
  env: Pick<Env, 'DATABASE_URL' | 'DATABASE_PROXY_URL' | 'DATABASE_TIMEOUT_MS'>,
  answerWithinMs = answerWithin(env.DATABASE_TIMEOUT_MS),
): Database {
  const url = env.DATABASE_URL;
  if (!url) throw new DatabaseUnavailable('No database is configured (DATABASE_URL).');
  const proxy = env.DATABASE_PROXY_URL ?? '';
  const key = `${proxy}\n${answerWithinMs}\n${url}`;
  let db = handles.get(key);
  if (!db) {
    const sql = neon(url);
    db = Object.assign(drizzle({ client: sql, schema }), { answerWithinMs });
    handles.set(key, db);
  }
  if (proxy) useLocalProxy(proxy, url);
  return db;
}

function answerWithin(setting: string | undefined): number {
  const ms = setting !== undefined && /^[0-9]{1,5}$/.test(setting) ? Number(setting) : 0;
  return ms >= 1 && ms <= 60_000 ? ms : DEFAULT_ANSWER_WITHIN_MS;
}

/**
 * neonConfig is module-global in the driver; within one Worker every request sees the same
 * environment, so setting it from the bindings is stable. The bridge's per-run secret is the password
 * of the connection string it handed out: HTTP queries carry it in `Neon-Connection-String` as they are;
 * the WebSocket path (which can't set headers) names it in the URL.
 */
function useLocalProxy(proxy: string, url: string): void {
  const base = new URL(proxy);
  const secret = URL.parse(url)?.password ?? '';
  neonConfig.fetchEndpoint = () => new URL('/sql', base).toString();
  neonConfig.wsProxy = (host, port) => `${base.host}/v2?address=${host}:${port}&secret=${secret}`;
  neonConfig.useSecureWebSocket = base.protocol === 'https:';
  neonConfig.pipelineConnect = false;
}
