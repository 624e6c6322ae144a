/**
 * The figures of a bench run: collected by name, printed as a table, written to `bench/results.json` as
 * `{ metrics: { name: { value, unit, goal, met } }, machine, at }`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { root } from './processes.ts';

export interface Goal {
  /** As printed: `≤ 1.15`, `≥ 0.95`, `= 1`, `report`. */
  readonly text: string;
  readonly met: (value: number) => boolean;
}

export const atMost = (limit: number): Goal => ({ text: `≤ ${limit}`, met: (v) => v <= limit });
export const atLeast = (limit: number): Goal => ({ text: `≥ ${limit}`, met: (v) => v >= limit });
export const exactly = (target: number): Goal => ({ text: `${target}`, met: (v) => v === target });
export const report: Goal = { text: 'report', met: () => true };

export interface Metric {
  value: number;
  unit: string;
  goal: string;
  /** `null` for a figure that is only reported. */
  met: boolean | null;
  /** How it was obtained (runs, samples), for the table's last column. */
  detail?: string;
}

export class Results {
  readonly metrics: Record<string, Metric> = {};
  readonly failures: string[] = [];

  add(name: string, value: number, unit: string, goal: Goal, detail?: string): void {
    this.metrics[name] = {
      value,
      unit,
      goal: goal.text,
      met: goal === report ? null : Number.isFinite(value) && goal.met(value),
      ...(detail ? { detail } : {}),
    };
    console.log(`bench: ${name} = ${value} ${unit}${detail ? ` (${detail})` : ''}`);
  }

  /** A suite that could not run: recorded, reported, and the run exits non-zero. */
  fail(suite: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failures.push(`${suite}: ${message}`);
    console.error(`bench: ${suite} failed: ${message}`);
  }

  table(): string {
    const rows = Object.entries(this.metrics).map(([name, m]) => [
      name,
      String(m.value),
      m.unit,
      m.goal,
      m.met === null ? '·' : m.met ? 'met' : 'MISSED',
      m.detail ?? '',
    ]);
    const header = ['metric', 'value', 'unit', 'goal', '', 'how'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  }

  write(startedAt: Date): string {
    const path = join(root, 'bench/results.json');
    const body = { metrics: this.metrics, machine: machine(), at: startedAt.toISOString(), failures: this.failures };
    writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
    return path;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    /** 1, 5 and 15 minutes at the end of the run: other work on the machine shows up as noise. */
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    wrangler: version('wrangler'),
    workerd: workerdVersion(),
  };
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** The workerd that `wrangler dev` runs (wrangler's own dependency). */
function workerdVersion(): string {
  try {
    const bin = join(root, 'node_modules/wrangler/node_modules/workerd/bin/workerd');
    return execFileSync(bin, ['--version']).toString().trim();
  } catch {
    return 'unknown';
  }
}
