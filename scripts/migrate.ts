/**
 * `npm run db:migrate`: applies migrations/ to DATABASE_URL (any Postgres or Neon), or, when it is
 * unset, to the embedded development database in .signet/pgdata (`SIGNET_STATE_DIR` moves `.signet`, as
 * for `npm run dev`). Safe to run any number of times.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from './lib/embedded-postgres.ts';
import { applyMigrations } from './lib/migrate.ts';
import { checkDatabase, describeDatabase } from './lib/ports.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const problem = await checkDatabase(url);
    if (problem) throw new Error(problem);
    await applyMigrations(url);
    console.log(`signet: migrations applied to ${describeDatabase(url)}`);
    return;
  }
  const dataDir = `${process.env.SIGNET_STATE_DIR ?? `${root}.signet`}/pgdata`;
  mkdirSync(dataDir, { recursive: true });
  const embedded = await startEmbeddedPostgres({ dataDir });
  try {
    await applyMigrations(embedded.url);
    console.log(`signet: migrations applied to the embedded database (${dataDir})`);
  } finally {
    await embedded.close();
  }
}

main().catch((error: unknown) => {
  console.error(`signet db:migrate: ${(error as Error).message}`);
  process.exit(1);
});
