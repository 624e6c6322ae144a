/**
 * Bundles the typed client (src/client) for browsers into public/client/signet.js, which the demo page
 * imports. Run by `npm run dev` before wrangler starts, by `npm run build`, and so before deploying.
 */
import { mkdirSync } from 'node:fs';
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const outfile = await buildClient();
  console.log(`signet: built ${outfile.slice(root.length)}`);
}
