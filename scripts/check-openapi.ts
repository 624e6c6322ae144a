/**
 * `npm run check:openapi`: proves that standard tools consume Signet's OpenAPI document as it is served,
 * not that it agrees with itself. Against a running `npm run dev` (its own, on a fresh embedded database
 * and a free port, unless `SIGNET_URL` names one on loopback), it:
 *
 * 1. fetches `/openapi.json`;
 * 2. lints it with Redocly CLI (`recommended`) and Spectral (`spectral:oas`): 0 errors each;
 * 3. generates TypeScript types with openapi-typescript and type-checks a program that uses them with
 *    openapi-fetch (`scripts/openapi-check/exercise.ts`);
 * 4. runs that program: every operation called, error cases included, every answer's status documented
 *    and its body valid against the documented schema (Ajv, JSON Schema 2020-12).
 *
 * Exit code 1 when any step fails. The tools are pinned devDependencies (openapi-typescript in its own
 * workspace, tools/openapi-typegen, because it needs TypeScript 5's compiler API).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DevServer, startDevServer } from './lib/dev-server.ts';

type Exercise = (
  base: string,
  doc: Record<string, unknown>,
) => Promise<{ failures: string[]; seen: Map<string, Set<number>>; operations: string[] }>;

const root = fileURLToPath(new URL('..', import.meta.url));
const here = join(root, 'scripts/openapi-check');
const generated = join(here, 'generated');

function step(name: string) {
  console.log(`\n--- ${name}`);
  return Date.now();
}

function tool(name: string, args: string[]): void {
  const result = spawnSync(process.execPath, args, {
    cwd: here,
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
  if (result.status !== 0) throw new Error(`${name} failed (exit code ${result.status})`);
}

async function main(): Promise<void> {
  let server: DevServer | undefined;
  const given = process.env.SIGNET_URL;
  if (given && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(given)) {
    throw new Error('SIGNET_URL must be a loopback http URL');
  }
  try {
    let started = step(given ? `using ${given}` : 'starting npm run dev (fresh embedded database, free port)');
    if (!given) server = await startDevServer();
    const base = (given ?? server?.base ?? '').replace(/\/$/, '');
    console.log(`${base} (${Date.now() - started} ms)`);

    started = step('GET /openapi.json');
    const response = await fetch(`${base}/openapi.json`);
    if (response.status !== 200) throw new Error(`/openapi.json answered ${response.status}`);
    const doc = (await response.json()) as Record<string, unknown>;
    mkdirSync(generated, { recursive: true });
    const file = join(generated, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    console.log(`${file} (${Date.now() - started} ms)`);

    started = step('Redocly CLI lint (recommended)');
    tool('redocly lint', [
      join(root, 'node_modules/@redocly/cli/bin/cli.js'),
      'lint',
      file,
      '--config',
      join(here, 'redocly.yaml'),
    ]);
    console.log(`(${Date.now() - started} ms)`);

    started = step('Spectral lint (spectral:oas)');
    tool('spectral lint', [
      join(root, 'node_modules/@stoplight/spectral-cli/dist/index.js'),
      'lint',
      file,
      '--ruleset',
      join(here, '.spectral.yaml'),
      '--fail-severity',
      'error',
    ]);
    console.log(`(${Date.now() - started} ms)`);

    started = step('openapi-typescript');
    tool('openapi-typescript', [
      join(root, 'tools/openapi-typegen/node_modules/openapi-typescript/bin/cli.js'),
      file,
      '--output',
      join(generated, 'openapi.d.ts'),
    ]);
    console.log(`(${Date.now() - started} ms)`);

    started = step('type-check the openapi-fetch program against the generated types');
    tool('tsc', [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(here, 'tsconfig.json')]);
    console.log(`(${Date.now() - started} ms)`);

    started = step('run it: every operation, statuses documented, bodies valid (Ajv, 2020-12)');
    // Imported by a computed path: the program type-checks only against the types generated above, so
    // `npm run typecheck` (which runs before they exist) must not follow this import.
    const program = './openapi-check/exercise.ts';
    const { exercise } = (await import(program)) as { exercise: Exercise };
    const report = await exercise(base, doc);
    for (const operation of report.operations) {
      const statuses = [...(report.seen.get(operation) ?? [])].sort();
      console.log(`${operation.padEnd(40)} ${statuses.join(' ') || '-'}`);
    }
    const answers = [...report.seen.values()].reduce((n, s) => n + s.size, 0);
    console.log(
      `${report.operations.length} operations, ${answers} distinct (operation, status) answers checked (${Date.now() - started} ms)`,
    );
    if (report.failures.length > 0) {
      console.error(`\n${report.failures.length} failure(s):\n${report.failures.map((f) => `  ✗ ${f}`).join('\n')}`);
      process.exitCode = 1;
      return;
    }
    console.log('\ncheck:openapi: every check passed');
  } finally {
    await server?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`check:openapi: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
