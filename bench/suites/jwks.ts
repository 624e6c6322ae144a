/**
 * IdP JWKS fetches per 1,000 `id_token` exchanges in steady state: after a warm-up of 20 exchanges, 1,000
 * more (each with a fresh ID token, 40 a second, under the edge limit on token exchanges) through
 * `POST /v1/auth/token`; the local IdP counts every JWKS request it serves.
 *
 * Then `actor.exchanges_per_s`: the same exchanges unpaced (8 at a time, ID tokens signed beforehand), in
 * 5 bursts of 100 once the edge limit's 10-s window has passed — the JWKS cached throughout.
 */
import { importJWK, SignJWT } from 'jose';
import type { LocalIdp } from '../../scripts/lib/local-idp.ts';
import { sleep } from '../lib/processes.ts';
import { exactly, type Results, report } from '../lib/results.ts';
import type { SignetServer } from '../lib/servers.ts';

const EXCHANGES_PER_SECOND = 40;

async function idpFetches(idp: LocalIdp): Promise<number> {
  return ((await (await fetch(`${idp.url}/__idp/stats`)).json()) as { fetches: number }).fetches;
}

export async function benchJwks(results: Results, signet: SignetServer, idp: LocalIdp): Promise<void> {
  const jwk = idp.currentKey();
  const key = await importJWK(jwk, 'ES256');
  const sign = (i: number) =>
    new SignJWT({ email: `bench-${i % 50}@idp.bench.signet.dev`, email_verified: true })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid! })
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setSubject(`bench-${i % 50}`)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
  const send = async (idToken: string) => {
    const response = await fetch(`${signet.base}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'id_token', id_token: idToken }),
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`id_token exchange: ${response.status} ${body}`);
  };
  const exchange = async (i: number) => send(await sign(i));
  // Paced under the edge limit on token exchanges per client address (600 per 10 s, wrangler.toml).
  const run = async (from: number, count: number) => {
    const started = performance.now();
    let next = from;
    const worker = async () => {
      while (next < from + count) {
        const i = next++;
        const due = started + (i - from) * (1000 / EXCHANGES_PER_SECOND);
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        await exchange(i);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  };

  await run(0, 20);
  const before = await idpFetches(idp);
  const started = performance.now();
  await run(20, 1000);
  const seconds = (performance.now() - started) / 1000;
  const fetches = (await idpFetches(idp)) - before;
  results.add(
    'actor.jwks_fetches_per_1k',
    fetches,
    'fetches',
    exactly(0),
    `1,000 exchanges after a warm-up of 20 (${Math.round(1000 / seconds)}/s; first fetch in warm-up: ${before})`,
  );

  // Unpaced: how many exchanges a second one Worker serves with the JWKS cached.
  await sleep(11_000); // the edge limit's window (600 per 10 s) starts afresh
  const rates: number[] = [];
  const beforeBursts = await idpFetches(idp);
  for (let burst = 0; burst < 5; burst++) {
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => sign(2000 + burst * 100 + i)));
    let next = 0;
    const burstStarted = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < tokens.length) await send(tokens[next++]!);
      }),
    );
    rates.push(tokens.length / ((performance.now() - burstStarted) / 1000));
  }
  const burstFetches = (await idpFetches(idp)) - beforeBursts;
  results.addRuns(
    'actor.exchanges_per_s',
    rates,
    'exchanges/s',
    report,
    `id_token exchanges through npm run dev (embedded Postgres behind the Neon bridge), 8 at a time, 5 bursts ` +
      `of 100; JWKS fetches meanwhile: ${burstFetches}`,
    0,
  );
}
