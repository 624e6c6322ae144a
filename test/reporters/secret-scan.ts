/**
 * A vitest reporter that reads every console line of the whole test run — the Worker's logs included —
 * and fails the run if any carries a token, an API key secret or private key material. (Responses are
 * checked per request in test/support/http.ts.)
 */
import type { Reporter } from 'vitest/node';

export const SECRET_PATTERNS: [string, RegExp][] = [
  ['a JWS/JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/],
  ['an API key secret', /sgk_[A-Za-z0-9_-]{43}/],
  ['private key material (JWK "d")', /"d"\s*:\s*"[A-Za-z0-9_-]{30,}"/],
  ['a bearer header value', /Bearer\s+[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/i],
];

export function findSecrets(text: string): string[] {
  return SECRET_PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
}

export default class SecretScanReporter implements Reporter {
  readonly #findings: string[] = [];
  #lines = 0;

  onUserConsoleLog(log: { content: string; taskId?: string }): void {
    this.#lines += 1;
    const found = findSecrets(log.content);
    if (found.length > 0) this.#findings.push(`${found.join(', ')} in a log line: ${log.content.slice(0, 120)}…`);
  }

  onTestRunEnd(): void {
    if (this.#findings.length === 0) {
      console.log(`secret scan: ${this.#lines} log lines, no token, API key secret or key material`);
      return;
    }
    console.error(`secret scan: ${this.#findings.length} log line(s) carry secrets:\n${this.#findings.join('\n')}`);
    process.exitCode = 1;
  }
}
