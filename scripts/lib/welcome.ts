/** What `npm run dev` prints once the Worker answers: where it is and what a newcomer can do next. */
import type { DemoSeed } from './seed.ts';

export async function printWelcome(base: string, seed: DemoSeed): Promise<void> {
  const lines = [
    '',
    `Signet is running at ${base}`,
    `  health:        curl ${base}/health`,
    `  demo page:     ${base}/`,
    `  organization:  ${seed.organization.name} (slug "${seed.organization.slug}", id ${seed.organization.id})`,
    ...seed.users.map((u) => `  ${u.role.padEnd(7)}        ${u.email}`),
    ...seed.documents.map((d) => `  document:      ${d.title} (${d.visibility}) ${d.id}`),
    '',
  ];
  console.log(lines.join('\n'));
}
