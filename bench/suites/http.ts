/**
 * `http.auth_vs_bare_ratio`: requests/s of `GET /v1/me` with a token ÷ `GET /health`, on the same server
 * in the same run. The load comes from autocannon in a second process (the CLI, `--json`); rounds
 * alternate A B B A … so drift and noise fall on both, and the figure is the median of the per-pair
 * ratios.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from '../lib/processes.ts';
import { atLeast, type Results } from '../lib/results.ts';
import type { SignetServer } from '../lib/servers.ts';
import { median, round } from '../lib/stats.ts';

interface Load {
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
}

const CONNECTIONS = 16;
const SECONDS = 4;

/** Load generators still running when the bench exits (Ctrl-C mid-round) are stopped with it. */
const generators = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of generators) child.kill('SIGKILL');
});

function autocannon(url: string, seconds: number, headers: string[] = []): Promise<Load> {
  return new Promise((resolve, reject) => {
    const args = [join(root, 'node_modules/autocannon/autocannon.js'), '--json', '--no-progress'];
    for (const header of headers) args.push('-H', header);
    args.push('-c', String(CONNECTIONS), '-d', String(seconds), url);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    generators.add(child);
    child.once('exit', () => generators.delete(child));
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err.slice(-2000)}`));
      try {
        const result = JSON.parse(out) as {
          requests: { total: number };
          duration: number;
          non2xx: number;
          errors: number;
        };
        resolve({
          requestsPerSecond: result.requests.total / result.duration,
          non2xx: result.non2xx,
          errors: result.errors,
        });
      } catch (error) {
        reject(new Error(`autocannon output is not JSON (${(error as Error).message}): ${out.slice(0, 500)}`));
      }
    });
  });
}

export async function benchHttp(results: Results, signet: SignetServer): Promise<void> {
  const token = await signet.token('viewer');
  const bare = () => autocannon(`${signet.base}/health`, SECONDS);
  const auth = () => autocannon(`${signet.base}/v1/me`, SECONDS, [`authorization=Bearer ${token}`]);
  // Warm-up of both paths (JIT, token cache, the organization's revocation list).
  await autocannon(`${signet.base}/health`, 2);
  await autocannon(`${signet.base}/v1/me`, 2, [`authorization=Bearer ${token}`]);

  const pairs = 8;
  const ratios: number[] = [];
  const bareRates: number[] = [];
  const authRates: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    // A B, then B A: neither endpoint always goes first.
    let withToken: Load;
    let health: Load;
    if (pair % 2 === 0) {
      health = await bare();
      withToken = await auth();
    } else {
      withToken = await auth();
      health = await bare();
    }
    for (const load of [withToken, health]) {
      if (load.non2xx > 0 || load.errors > 0) {
        throw new Error(`a load round had ${load.non2xx} non-2xx responses and ${load.errors} errors`);
      }
    }
    ratios.push(withToken.requestsPerSecond / health.requestsPerSecond);
    bareRates.push(health.requestsPerSecond);
    authRates.push(withToken.requestsPerSecond);
  }
  results.addRuns(
    'http.auth_vs_bare_ratio',
    ratios,
    'ratio',
    atLeast(0.95),
    `autocannon -c ${CONNECTIONS}, ${pairs} alternating pairs of ${SECONDS} s: /v1/me ${Math.round(median(authRates))}/s, ` +
      `/health ${Math.round(median(bareRates))}/s; pairs ${round(Math.min(...ratios), 3)}–${round(Math.max(...ratios), 3)}`,
  );
}
