/**
 * `npm run dev` fails clearly: a busy port or an unreachable database is one line (host and port,
 * never a password) and a non-zero exit — before anything is started.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runDev(env: Record<string, string>) {
  return spawnSync(process.execPath, [join(root, 'scripts/dev.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('npm run dev refuses to start', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('on a busy port, with one clear line', () => {
    const result = runDev({ PORT: String(port) });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(`signet dev: port ${port} is already in use (set PORT to use another)`);
  });

  it('on an unreachable database, naming host and port but never the password', () => {
    // Port 1 on loopback: nothing listens there.
    const result = runDev({ PORT: '0', DATABASE_URL: 'postgresql://admin:hunter2secret@127.0.0.1:1/signet' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^signet dev: cannot reach the database at 127\.0\.0\.1:1 \(\w+\)\n?$/);
    expect(result.stderr + result.stdout).not.toContain('hunter2secret');
  });
});
