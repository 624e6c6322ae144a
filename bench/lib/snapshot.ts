/**
 * The source tree a run measures, copied once at its start: `wrangler dev` rebuilds and restarts the
 * Worker whenever a source file changes, which in a working tree someone is editing would drop every
 * room socket and fail requests mid-run. The copy holds what the Worker, `npm run dev` and the bench
 * Workers need; `node_modules` is linked, not copied. `.dev.vars` is not copied: `npm run dev` makes a
 * fresh development key in the copy.
 */
import { cpSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { root, temporaryDir } from './processes.ts';

const ENTRIES = [
  'package.json',
  'tsconfig.json',
  'wrangler.toml',
  'src',
  'public',
  'migrations',
  'scripts',
  'bench/workers',
];

export function snapshotTree(): string {
  const tree = temporaryDir('signet-bench-tree-');
  for (const entry of ENTRIES) {
    const from = join(root, entry);
    if (!existsSync(from)) continue;
    cpSync(from, join(tree, entry), {
      recursive: true,
      filter: (path) => !/[/\\](\.wrangler|node_modules)([/\\]|$)/.test(path),
    });
  }
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
  return tree;
}
