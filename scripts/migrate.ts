/**
 * `npm run db:migrate`: applies migrations/ to DATABASE_URL (any Postgres or Neon), or, when it is
 * unset, to the embedded development database in .signet/pgdata. Safe to run any number of times.
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
  mkdirSync(`${root}.signet/pgdata`, { recursive: true });
  const embedded = await startEmbeddedPostgres({ dataDir: `${root}.signet/pgdata` });
  try {
    await applyMigrations(embedded.url);
    console.log('signet: migrations applied to the embedded database (.signet/pgdata)');
  } finally {
    await embedded.close();
  }
}

main().catch((error: unknown) => {
  console.error(`signet db:migrate: ${(error as Error).message}`);
  process.exit(1);
});
