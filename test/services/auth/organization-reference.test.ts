/**
 * An exchange's `organization` names one organization: an id if it is shaped like one, else a slug
 * (SPEC §2: "organization by id or slug"). Matching either made an organization whose slug is another's
 * id stand in for it (an outside review): a viewer's agent got the look-alike's owner role in the real
 * organization, a sign-in by id got the look-alike's token, and the look-alike's deletion blocked it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../support/actors.ts';
import { addMembership, adminSql, createDocument, createOrganization, unique } from '../../support/database.ts';
import { call, errorCode } from '../../support/http.ts';

interface TokenBody {
  access_token: string;
  actor: { type: string; organizationId: string | null; role?: string | null };
}

const signIn = (email: string, organization: string) =>
  call('POST', '/v1/auth/token', { body: { grant_type: 'dev', email, organization } });

describe("an exchange's organization reference", () => {
  let real: { id: string; slug: string };
  let lookAlike: { id: string };
  let email: string;

  beforeAll(async () => {
    real = await createOrganization();
    email = `${unique('mallory')}@example.com`;
    // The look-alike is written first, its membership too, so a lookup that matched both would meet
    // it first (the memberships' physical order). Its slug is the real organization's id: no request
    // can create that any more, but a row from before may hold one.
    const [row] =
      await adminSql()`insert into organizations (name, slug) values ('Look-alike', ${real.id}) returning id`;
    lookAlike = row as { id: string };
    await addMembership(lookAlike.id, email, 'owner');
    await addMembership(real.id, email, 'viewer');
  });

  it('is an id when shaped like one: the real organization and its role, every time', async () => {
    for (let i = 0; i < 3; i++) {
      const { status, body } = await signIn(email, real.id);
      expect(status).toBe(200);
      expect((body as TokenBody).actor).toMatchObject({ organizationId: real.id, role: 'viewer' });
    }
    // The upper-case spelling of the id is the same id.
    const upper = await signIn(email, real.id.toUpperCase());
    expect((upper.body as TokenBody).actor).toMatchObject({ organizationId: real.id, role: 'viewer' });
    // A slug still names its organization.
    expect(((await signIn(email, real.slug)).body as TokenBody).actor.organizationId).toBe(real.id);
  });

  it("gives a viewer's agent no more than a viewer's rights, whatever the look-alike's role", async () => {
    const viewer = ((await signIn(email, real.id)).body as TokenBody).access_token;
    const document = await createDocument(real.id, { title: 'board minutes' });
    const delegate = (scope: string) =>
      call('POST', '/v1/auth/token', {
        body: {
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: viewer,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          scope,
          agent: { name: 'helper' },
        },
      });
    const exchange = await delegate('documents:read documents:delete audit:read');
    expect(exchange.status).toBe(403);
    expect(errorCode(exchange.body)).toBe('INSUFFICIENT_PERMISSIONS');
    // What a viewer may delegate still works, and the document is untouched.
    const reader = await delegate('documents:read');
    expect(reader.status).toBe(200);
    const [row] = await adminSql()`select count(*)::int as n from documents where id = ${document.id}`;
    expect((row as { n: number }).n).toBe(1);
  });

  it("is not blocked by the look-alike's deletion", async () => {
    await adminSql()`insert into organization_deletions (id, organization_id, organization_slug, organization_name, initiated_by, request_id)
      select gen_random_uuid(), ${lookAlike.id}, ${real.id}, 'Look-alike', u.id, 'test' from users u where u.email = ${email}`;
    const { status, body } = await signIn(email, real.id);
    expect(status).toBe(200);
    expect((body as TokenBody).actor.organizationId).toBe(real.id);
  });

  it('refuses to create an organization whose slug is shaped like an id', async () => {
    const token = await devToken(`${unique('creator')}@example.com`);
    for (const slug of [crypto.randomUUID(), '00000000-0000-0000-0000-000000000000']) {
      const created = await call('POST', '/v1/orgs', { token, body: { name: 'Look-alike', slug } });
      expect(created.status).toBe(400);
      expect(errorCode(created.body)).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(created.body)).toContain('slug');
    }
    // Hex and hyphens in another shape are still a slug.
    const fine = await call('POST', '/v1/orgs', { token, body: { name: 'Fine', slug: unique('deadbeef-cafe') } });
    expect(fine.status).toBe(201);
  });
});
