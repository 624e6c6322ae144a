/**
 * `npm run dev` (SPEC §6): the embedded Postgres (or DATABASE_URL), the local Neon bridge, migrations,
 * dev signing keys, the demo seed, then `wrangler dev` on port 8787. Ctrl-C stops every child. A busy
 * port or an unreachable database is one clear line and a non-zero exit.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildClient } from './build-client.ts';
import { ensureDevSigningKeys } from './lib/dev-vars.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './lib/embedded-postgres.ts';
import { applyMigrations } from './lib/migrate.ts';
import { startNeonBridge } from './lib/neon-bridge.ts';
import { checkDatabase, describeDatabase, portIsFree } from './lib/ports.ts';
import { seedDemo } from './lib/seed.ts';
import { printWelcome } from './lib/welcome.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.PORT ?? 8787);
// Where local state lives (the embedded database, wrangler's Durable Object storage); tests point it elsewhere.
const stateDir = process.env.SIGNET_STATE_DIR ?? `${root}.signet`;
const dataDir = `${stateDir}/pgdata`;

function fail(message: string): never {
  console.error(`signet dev: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  if (!(await portIsFree(port))) fail(`port ${port} is already in use (set PORT to use another)`);

  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const problem = await checkDatabase(databaseUrl);
    if (problem) fail(problem);
    console.log(`signet dev: using the database at ${describeDatabase(databaseUrl)}`);
  } else {
    mkdirSync(dataDir, { recursive: true });
    try {
      embedded = await startEmbeddedPostgres({ dataDir });
    } catch (error) {
      fail(`cannot start the embedded database in ${dataDir} (${(error as Error).message})`);
    }
    databaseUrl = embedded.url;
    console.log(`signet dev: embedded Postgres (PGlite) at ${describeDatabase(databaseUrl)}, data in ${dataDir}`);
  }

  await applyMigrations(databaseUrl);
  const bridge = await startNeonBridge({ database: databaseUrl });
  const { generated } = await ensureDevSigningKeys(`${root}.dev.vars`);
  if (generated) console.log('signet dev: generated a development signing key into .dev.vars');
  const seed = await seedDemo(databaseUrl);
  await buildClient();

  // Local values for wrangler, in a git-ignored file so a DATABASE_URL password is never printed.
  const localVars = `${stateDir}/dev.env`;
  mkdirSync(stateDir, { recursive: true });
  // The Worker's DATABASE_URL is the bridge's connection string: the database's, with the bridge's per-run
  // secret as its password (a password of DATABASE_URL itself stays with the bridge).
  const workerVars = [
    `ENVIRONMENT=development`,
    `DATABASE_URL=${bridge.connectionString}`,
    `DATABASE_PROXY_URL=${bridge.url}`,
    // `CORS_ALLOWED_ORIGINS='http://localhost:5173' npm run dev` lets a page on that origin call the API.
    ...(process.env.CORS_ALLOWED_ORIGINS ? [`CORS_ALLOWED_ORIGINS=${process.env.CORS_ALLOWED_ORIGINS}`] : []),
  ];
  writeFileSync(localVars, [...workerVars, ''].join('\n'), { mode: 0o600 });

  const wrangler = spawn(
    process.execPath,
    [
      `${root}node_modules/wrangler/bin/wrangler.js`,
      'dev',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--env-file',
      `${root}.dev.vars`,
      '--env-file',
      localVars,
      // Optional extra values (e.g. `npm run bench` points IDP_* at a local IdP); none by default.
      ...(process.env.SIGNET_EXTRA_ENV_FILE ? ['--env-file', process.env.SIGNET_EXTRA_ENV_FILE] : []),
      '--show-interactive-dev-session=false',
      '--persist-to',
      `${stateDir}/wrangler`,
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (wrangler.exitCode === null) wrangler.kill('SIGTERM');
    await bridge.close().catch(() => {});
    await embedded?.close().catch(() => {});
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  wrangler.on('exit', (code) => void stop(code ?? 1));

  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 120 && !stopping; attempt++) {
    try {
      const response = await fetch(`${base}/health`);
      if (response.ok) {
        await printWelcome(base, seed);
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!stopping) {
    console.error('signet dev: the Worker did not answer /health within 60 s');
    await stop(1);
  }
}

main().catch((error: unknown) => fail((error as Error).message ?? String(error)));
