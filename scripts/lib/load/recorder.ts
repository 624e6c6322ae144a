/**
 * What `npm run load` measures: every HTTP request it makes goes through `Recorder.call`, which times
 * it, counts it by operation and by outcome class (`200`, `409 CONFLICT`, `network error`, …), and
 * keeps the number of requests in flight. Knows nothing of Signet's API beyond the error envelope.
 */

export interface CallResult {
  status: number;
  /** The parsed JSON body, or null (no body, not JSON, or no answer). */
  body: Record<string, unknown> | null;
  /** The error envelope's `code`, when there is one. */
  code?: string;
  /** `retry-after` of a 429, in seconds. */
  retryAfter?: number;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** The operation this request counts under in the report (e.g. `read`, `write`). */
  op: string;
}

/** Status 0: no HTTP answer at all (connection refused or reset, timed out). */
export const NO_ANSWER = 0;
const TIMEOUT_MS = 30_000;

export class Recorder {
  readonly #base: string;
  readonly #latencies = new Map<string, number[]>();
  readonly #classes = new Map<string, number>();
  #inFlight = 0;
  #maxInFlight = 0;
  #inFlightSum = 0;
  #inFlightSamples = 0;
  #sampler: ReturnType<typeof setInterval> | undefined;
  #requests = 0;

  constructor(base: string) {
    this.#base = base;
  }

  get requests(): number {
    return this.#requests;
  }

  /** One request; never throws (a failure to get an answer is status 0, class `network error`). */
  async call(method: string, path: string, options: CallOptions): Promise<CallResult> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    this.#inFlight += 1;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    const started = performance.now();
    let result: CallResult;
    try {
      const response = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await response.text();
      let body: Record<string, unknown> | null = null;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        // not JSON: kept as null
      }
      const code = (body?.error as { code?: unknown } | undefined)?.code;
      const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
      result = {
        status: response.status,
        body,
        ...(typeof code === 'string' ? { code } : {}),
        ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
      };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      result = { status: NO_ANSWER, body: null, code: timedOut ? 'timeout' : 'network error' };
    } finally {
      this.#inFlight -= 1;
    }
    this.#requests += 1;
    const latencies = this.#latencies.get(options.op) ?? [];
    latencies.push(performance.now() - started);
    this.#latencies.set(options.op, latencies);
    const outcome = result.status === NO_ANSWER ? result.code! : [result.status, result.code].filter(Boolean).join(' ');
    const key = `${options.op}\t${outcome}`;
    this.#classes.set(key, (this.#classes.get(key) ?? 0) + 1);
    return result;
  }

  /** Samples the number of requests in flight every 100 ms, for the average in the report. */
  startSampling(): void {
    this.#sampler = setInterval(() => {
      this.#inFlightSum += this.#inFlight;
      this.#inFlightSamples += 1;
    }, 100);
  }

  stopSampling(): void {
    clearInterval(this.#sampler);
  }

  summary() {
    const all = [...this.#latencies.values()].flat();
    const byOp = [...this.#latencies.entries()].map(([op, values]) => ({
      op,
      count: values.length,
      ...percentiles(values),
    }));
    const classes = [...this.#classes.entries()]
      .map(([key, count]) => {
        const [op, outcome] = key.split('\t') as [string, string];
        return { op, outcome, count };
      })
      .sort((a, b) => a.op.localeCompare(b.op) || b.count - a.count);
    return {
      requests: this.#requests,
      ...percentiles(all),
      byOp,
      classes,
      maxInFlight: this.#maxInFlight,
      meanInFlight: this.#inFlightSamples ? this.#inFlightSum / this.#inFlightSamples : 0,
    };
  }
}

export function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  if (values.length === 0) return { p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1)! };
}
