/**
 * Bundles the typed client (src/client):
 *
 * - for browsers into public/client/signet.js, which the demo page imports (run by `npm run dev` before
 *   wrangler starts, by `npm run build`, and so before deploying);
 * - as the package `@signet/client` (packages/client/dist, by `npm run build`): an ES module with
 *   partysocket, zod, y-protocols and lib0 left to the package's dependencies and yjs to its peer dependency, and declarations of the client and the contract it
 *   imports (src/contract), emitted by tsc — nothing of the server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildClient(): Promise<string> {
  const outfile = `${root}public/client/signet.js`;
  mkdirSync(`${root}public/client`, { recursive: true });
  await build({
    entryPoints: [`${root}src/client/index.ts`],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
  });
  return outfile;
}

export async function buildClientPackage(): Promise<string> {
  const dist = `${root}packages/client/dist`;
  // Built aside, then swapped in: a reader of dist/ never sees it half-written or missing.
  const next = `${dist}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  await build({
    entryPoints: [`${root}src/client/index.ts`],
    outfile: `${next}/index.js`,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    // Yjs is a peer dependency (one copy per app: two copies of Yjs can't share documents).
    external: ['partysocket', 'zod', 'yjs', 'y-protocols', 'y-protocols/*', 'lib0', 'lib0/*'],
    sourcemap: true,
    legalComments: 'none',
  });
  const tsc = spawnSync(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}packages/client/tsconfig.json`, '--outDir', next],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    throw new Error('tsc could not emit the client declarations');
  }
  const previous = `${dist}.previous-${process.pid}`;
  if (existsSync(dist)) renameSync(dist, previous);
  renameSync(next, dist);
  rmSync(previous, { recursive: true, force: true });
  return dist;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outfile = await buildClient();
  console.log(`signet: built ${outfile.slice(root.length)}`);
  const dist = await buildClientPackage();
  console.log(`signet: built ${dist.slice(root.length)} (the @signet/client package)`);
}
