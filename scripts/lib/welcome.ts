/** What `npm run dev` prints once the Worker answers: where it is, who the demo users are, ready tokens. */
import type { DemoSeed } from './seed.ts';

async function devToken(base: string, email: string, organization: string): Promise<string> {
  const response = await fetch(`${base}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'dev', email, organization, ttl_seconds: 3600 }),
  });
  const body = (await response.json()) as { access_token?: string };
  return body.access_token ?? '(could not mint a token)';
}

export async function printWelcome(base: string, seed: DemoSeed): Promise<void> {
  const lines = [
    '',
    `Signet is running at ${base}`,
    `  demo page:     ${base}/`,
    `  organization:  ${seed.organization.name} (slug "${seed.organization.slug}", id ${seed.organization.id})`,
    ...seed.documents.map((d) => `  document:      ${d.title} (${d.visibility}) ${d.id}`),
    '',
    'Demo users, each with a token valid for one hour:',
  ];
  for (const user of seed.users) {
    const token = await devToken(base, user.email, seed.organization.slug);
    lines.push(`  ${user.role.padEnd(7)} ${user.email}`, `          ${token}`);
  }
  lines.push(
    '',
    'Try:',
    // `npm run token` asks port 8787 unless told otherwise: name the server this one runs on.
    `  TOKEN=$(SIGNET_URL=${base} npm run -s token -- --email ${seed.users[0]!.email} --org ${seed.organization.slug})`,
    `  curl -H "authorization: Bearer $TOKEN" ${base}/v1/me`,
    '',
  );
  console.log(lines.join('\n'));
}
