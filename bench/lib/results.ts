/**
 * The figures of a bench run: collected by name, printed as a table, written to `bench/results.json` as
 * `{ metrics: { name: { value, unit, goal, met } }, machine, at }`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { root } from './processes.ts';
import { median, quantile, round } from './stats.ts';

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
  /** For a figure that is the median of several runs: how far the runs spread. */
  spread?: Spread;
}

/** The runs behind a median: their quartiles and how many there were. */
export interface Spread {
  median: number;
  q1: number;
  q3: number;
  iqr: number;
  runs: number;
  /** The interquartile range lies on both sides of the goal: one more run could land either way. */
  straddlesGoal: boolean;
}

/** The median of `samples` with its interquartile range, rounded to `digits`. */
export function spreadOf(samples: readonly number[], goal: Goal, digits = 3): Spread {
  const q1 = round(quantile(samples, 0.25), digits);
  const q3 = round(quantile(samples, 0.75), digits);
  return {
    median: round(median(samples), digits),
    q1,
    q3,
    iqr: round(q3 - q1, digits),
    runs: samples.length,
    straddlesGoal: goal !== report && goal.met(q1) !== goal.met(q3),
  };
}

export class Results {
  readonly metrics: Record<string, Metric> = {};
  readonly failures: string[] = [];
  /** Suites that could not run here for a reason that is not a failure (no PostgreSQL on the machine). */
  readonly skipped: string[] = [];

  add(name: string, value: number, unit: string, goal: Goal, detail?: string, spread?: Spread): void {
    this.metrics[name] = {
      value,
      unit,
      goal: goal.text,
      met: goal === report ? null : Number.isFinite(value) && goal.met(value),
      ...(detail ? { detail } : {}),
      ...(spread ? { spread } : {}),
    };
    const spreadText = spread ? ` [IQR ${spread.q1}–${spread.q3}, ${spread.runs} runs]` : '';
    console.log(`bench: ${name} = ${value} ${unit}${spreadText}${detail ? ` (${detail})` : ''}`);
    if (spread?.straddlesGoal) console.warn(`bench: WARNING ${name}: ${this.#straddles(name)}`);
  }

  /**
   * A ratio (or any figure) measured as one sample per run: the value is the median of the samples,
   * reported with its interquartile range and the number of runs.
   */
  addRuns(name: string, samples: readonly number[], unit: string, goal: Goal, detail?: string, digits = 3): void {
    const spread = spreadOf(samples, goal, digits);
    this.add(name, spread.median, unit, goal, detail, spread);
  }

  /** The figures whose runs' interquartile range straddles their goal. */
  warnings(): string[] {
    return Object.keys(this.metrics)
      .filter((name) => this.metrics[name]?.spread?.straddlesGoal)
      .map((name) => `WARNING ${name}: ${this.#straddles(name)}`);
  }

  #straddles(name: string): string {
    const m = this.metrics[name]!;
    return `its runs spread across the goal (${m.goal}): IQR ${m.spread?.q1}–${m.spread?.q3} over ${m.spread?.runs} runs, so the median (${m.value}) is not yet a measurement`;
  }

  /** A suite that could not run: recorded, reported, and the run exits non-zero. */
  fail(suite: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failures.push(`${suite}: ${message}`);
    console.error(`bench: ${suite} failed: ${message}`);
  }

  /** A suite that does not apply on this machine: one line, and the run still succeeds. */
  skip(suite: string, reason: string): void {
    this.skipped.push(`${suite}: ${reason}`);
    console.log(`bench: ${suite} skipped: ${reason}`);
  }

  table(): string {
    const rows = Object.entries(this.metrics).map(([name, m]) => [
      name,
      String(m.value),
      m.unit,
      m.goal,
      m.met === null ? '·' : m.met ? 'met' : 'MISSED',
      m.spread ? `${m.spread.q1}–${m.spread.q3} (${m.spread.runs})${m.spread.straddlesGoal ? ' !' : ''}` : '',
      m.detail ?? '',
    ]);
    const header = ['metric', 'value', 'unit', 'goal', '', 'IQR (runs)', 'how'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    const warnings = this.warnings();
    return [
      line(header),
      widths.map((w) => '─'.repeat(w)).join('  '),
      ...rows.map(line),
      ...(warnings.length > 0 ? ['', ...warnings.map((w) => `! ${w}`)] : []),
    ].join('\n');
  }

  write(startedAt: Date): string {
    const path = join(root, 'bench/results.json');
    const body = {
      metrics: this.metrics,
      warnings: this.warnings(),
      machine: machine(),
      at: startedAt.toISOString(),
      failures: this.failures,
      skipped: this.skipped,
    };
    // Arrays of numbers and strings on one line where it fits, as the formatter (`npm run lint`) writes them.
    const text = JSON.stringify(body, null, 2).replace(
      /^( *"[^"\n]*": )\[\n\s*([^[\]{}]*?)\n\s*\]/gm,
      (whole, prefix: string, items: string) => {
        const line = `${prefix}[${items.split(/,\n\s*/).join(', ')}]`;
        return line.length + 1 <= 120 ? line : whole;
      },
    );
    writeFileSync(path, `${text}\n`);
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
