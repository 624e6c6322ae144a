/**
 * `bundle.gzip_kib`: the Worker exactly as `wrangler deploy` would upload it (`--dry-run --outdir`), every
 * module gzipped (what Cloudflare's size limit counts). Source maps are not uploaded as code and are
 * left out.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { atMost, type Results } from '../lib/results.ts';
import { round } from '../lib/stats.ts';

export async function benchBundle(results: Results, tree: string): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'signet-bundle-'));
  try {
    const run = spawnSync(
      process.execPath,
      [join(tree, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir],
      { cwd: tree, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, encoding: 'utf8', timeout: 180_000 },
    );
    if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stdout}\n${run.stderr}`);
    let raw = 0;
    let gzipped = 0;
    const files: string[] = [];
    for (const file of walk(outdir)) {
      // Source maps and wrangler's README are not Worker code.
      if (file.endsWith('.map') || file.endsWith('README.md')) continue;
      const bytes = readFileSync(file);
      raw += bytes.byteLength;
      gzipped += gzipSync(bytes, { level: 9 }).byteLength;
      files.push(file.slice(outdir.length + 1));
    }
    // wrangler prints its own figure ("Total Upload: … KiB / gzip: … KiB"); shown next to ours.
    const reported = /gzip:\s*([\d.]+)\s*KiB/.exec(run.stdout)?.[1];
    results.add(
      'bundle.gzip_kib',
      round(gzipped / 1024, 1),
      'KiB',
      atMost(200),
      `${files.length} module(s), ${round(raw / 1024, 1)} KiB raw${reported ? `; wrangler says ${reported} KiB` : ''}`,
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
