/**
 * `npm run token -- --email someone@example.com [--org demo] [--ttl 900]`: asks the running
 * `npm run dev` server for a token with the dev grant and prints it (and only it) on stdout, so
 * `TOKEN=$(npm run -s token -- --email …)` works. `SIGNET_URL` points at another server.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    email: { type: 'string' },
    org: { type: 'string' },
    ttl: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function fail(message: string): never {
  console.error(`signet token: ${message}`);
  process.exit(1);
}

if (values.help || !values.email) {
  console.error('usage: npm run token -- --email <email> [--org <id or slug>] [--ttl <seconds, 5..3600>]');
  process.exit(values.help ? 0 : 1);
}

const base = process.env.SIGNET_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
const body: Record<string, unknown> = { grant_type: 'dev', email: values.email };
if (values.org) body.organization = values.org;
if (values.ttl) {
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl)) fail('--ttl must be a whole number of seconds');
  body.ttl_seconds = ttl;
}

let response: Response;
try {
  response = await fetch(`${base}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
} catch {
  fail(`no Signet server answers at ${base} (start it with npm run dev)`);
}
const result = (await response.json()) as { access_token?: string; error?: { code: string; message: string } };
if (!response.ok || !result.access_token)
  fail(`${result.error?.code ?? response.status}: ${result.error?.message ?? ''}`);
console.log(result.access_token);
