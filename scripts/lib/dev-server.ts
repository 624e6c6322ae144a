/**
 * Starts a real `npm run dev` (scripts/dev.ts: embedded Postgres, Neon bridge, wrangler dev) on a free
 * loopback port with its own state directory and a fresh database, for whatever needs the whole
 * service from outside: the Node-side tests and `npm run load`. `stop()` ends it with Ctrl-C (SIGINT)
 * and removes the state directory. It never touches a developer's `.signet/` or port 8787.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface DevServer {
  base: string;
  output(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `env`: more environment for `npm run dev` (e.g. `CORS_ALLOWED_ORIGINS`). */
export async function startDevServer(options: { env?: Record<string, string> } = {}): Promise<DevServer> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'signet-dev-'));
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [join(root, 'scripts/dev.ts')], {
    cwd: root,
    env: { ...process.env, ...options.env, PORT: String(port), SIGNET_STATE_DIR: stateDir, DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(stateDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  while (!output.includes('Signet is running at')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`npm run dev did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { base: `http://127.0.0.1:${port}`, output: () => output, stop };
}
