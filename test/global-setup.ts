/**
 * Runs in Node before the Workers-runtime tests: brings up the database the suite runs against —
 * the embedded Postgres (PGlite) unless DATABASE_URL names a server — applies the migrations, and
 * starts the Neon bridge the Worker's driver talks to. The same suite runs on both.
 */
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.ts';
import { applyMigrations } from '../scripts/lib/migrate.ts';
import { startNeonBridge } from '../scripts/lib/neon-bridge.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    databaseProxyUrl: string;
    databaseKind: 'embedded' | 'postgres';
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL;
  const embedded = external ? undefined : await startEmbeddedPostgres();
  const databaseUrl = external ?? embedded!.url;
  await applyMigrations(databaseUrl);
  const bridge = await startNeonBridge();
  project.provide('databaseUrl', databaseUrl);
  project.provide('databaseProxyUrl', bridge.url);
  project.provide('databaseKind', external ? 'postgres' : 'embedded');
  return async () => {
    await bridge.close();
    await embedded?.close();
  };
}
