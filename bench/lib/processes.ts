/**
 * Child processes of `npm run bench`, and their teardown. Each child starts in its own process group
 * (`detached`), so stopping it reaches everything it started (wrangler → workerd, dev.ts → wrangler →
 * workerd) by that group's id. `stopAll` runs on success, on failure and on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The last 64 KiB of its output, for a readable failure. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<Child>();

export { freePort } from '../../scripts/lib/dev-server.ts';

const temporaries = new Set<string>();

/** A temporary folder, removed by `removeTemporaries` at the end of the run. */
export function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaries.add(dir);
  return dir;
}

export function removeTemporaries(): void {
  for (const dir of temporaries) rmSync(dir, { recursive: true, force: true });
  temporaries.clear();
}

/** Every child of this run, stopped or not, for the log written when something failed. */
const started: Child[] = [];

export function outputs(): string {
  return started.map((child) => `===== ${child.name}\n${child.output()}`).join('\n');
}

export function start(name: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Child {
  // Through `sh` to raise the open-files limit first: 10,000 sockets take several descriptors each in
  // the local stack (wrangler's proxy workerd and the Worker's); as root up to 262,144, else the hard limit.
  const raise = 'ulimit -n 262144 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const child = spawn('/bin/sh', ['-c', raise, 'sh', process.execPath, ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const handle: Child = {
    name,
    process: child,
    output: () => output,
    async stop() {
      running.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      signalGroup(child.pid, 'SIGINT');
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      // dev.ts and wrangler stop their own children on SIGINT; whatever is left of the group goes now.
      signalGroup(child.pid, stopped ? 'SIGTERM' : 'SIGKILL');
      if (!stopped) await Promise.race([exited, sleep(5_000)]);
    },
  };
  running.add(handle);
  started.push(handle);
  return handle;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Waits until `ready()` is true, or fails with the child's output after `timeoutMs`. */
export async function waitFor(child: Child, ready: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null) {
      throw new Error(`${child.name} exited (${child.process.exitCode}) before it was ready:\n${child.output()}`);
    }
    let isReady = false;
    try {
      isReady = await ready();
    } catch {
      // not answering yet
    }
    if (isReady) return;
    if (Date.now() > deadline)
      throw new Error(`${child.name} was not ready within ${timeoutMs / 1000} s:\n${child.output()}`);
    await sleep(250);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Stops every child on Ctrl-C or SIGTERM, then exits (130 / 143). */
export function stopOnSignals(cleanup: () => Promise<void>): void {
  let stopping = false;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\nbench: ${signal}, stopping every process it started…`);
      void Promise.all([stopAll(), cleanup()]).finally(() => process.exit(code));
    });
  }
}
