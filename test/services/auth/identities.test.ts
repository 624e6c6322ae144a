/**
 * ID tokens identify users by the provider's (`iss`, `sub`), never by email alone (SPEC §2; issue 13
 * item 4): an email links an existing user only on that identity's first sign-in and only when
 * verified; a second identity claiming a bound email is refused; `iat` and `exp` are required and an
 * ID token lives at most 24 h.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { addMembership, adminSql, createOrganization, unique } from '../../support/database.ts';
import { call, errorCode } from '../../support/http.ts';
import { idToken } from '../../support/idp.ts';

interface TokenBody {
  actor: { type: string; id: string; organizationId: string | null; role?: string | null };
}

async function signIn(token: string, organization?: string) {
  return call('POST', '/v1/auth/token', { body: { grant_type: 'id_token', id_token: token, organization } });
}

const userIdOf = async (email: string) =>
  ((await adminSql()`select id from users where email = ${email}`)[0] as { id: string } | undefined)?.id;

describe('ID token identities', () => {
  let org: { id: string; slug: string };

  beforeAll(async () => {
    org = await createOrganization();
  });

  it('links an invited user on the identity first sign-in with a verified email, then signs in by (iss, sub)', async () => {
    const email = `${unique('invited')}@example.com`;
    await addMembership(org.id, email, 'editor');
    const invited = await userIdOf(email);
    const sub = `idp|${crypto.randomUUID()}`;
    const first = await signIn(await idToken({ sub, email }), org.slug);
    expect(first.status).toBe(200);
    expect((first.body as TokenBody).actor).toMatchObject({ id: invited, organizationId: org.id, role: 'editor' });
    // Later sign-ins go by the identity, whatever email the provider now reports.
    const later = await signIn(await idToken({ sub, email: `${unique('changed')}@example.com` }), org.slug);
    expect(later.status).toBe(200);
    expect((later.body as TokenBody).actor.id).toBe(invited);
    const identities = await adminSql()`select subject from user_identities where user_id = ${invited!}`;
    expect(identities.map((r) => (r as { subject: string }).subject)).toEqual([sub]);
  });

  it('refuses a second identity claiming an email already bound to another identity', async () => {
    const email = `${unique('bound')}@example.com`;
    await addMembership(org.id, email, 'admin');
    expect((await signIn(await idToken({ sub: `idp|${crypto.randomUUID()}`, email }))).status).toBe(200);
    const intruder = await signIn(await idToken({ sub: `idp|${crypto.randomUUID()}`, email }), org.slug);
    expect(intruder.status).toBe(401);
    expect(errorCode(intruder.body)).toBe('INVALID_TOKEN');
  });

  it.each([
    ['email_verified: false', false as const],
    ['no email_verified claim', 'absent' as const],
  ])('never becomes an existing user through an unverified email (%s)', async (_name, verified) => {
    const email = `${unique('victim')}@example.com`;
    await addMembership(org.id, email, 'owner');
    const victim = await userIdOf(email);
    const token = await idToken({ sub: `idp|${crypto.randomUUID()}`, email, email_verified: verified });
    // Not the victim: a new user, who is no member of the victim's organization.
    const orgless = await signIn(token);
    expect(orgless.status).toBe(200);
    expect((orgless.body as TokenBody).actor.id).not.toBe(victim);
    const intoOrg = await signIn(token, org.slug);
    expect(intoOrg.status).toBe(404);
    // The unverified address is not recorded as the new user's either, and the victim keeps no second identity.
    const [row] = await adminSql()`select email from users where id = ${(orgless.body as TokenBody).actor.id}`;
    expect((row as { email: string | null }).email).toBeNull();
    expect(await adminSql()`select 1 from user_identities where user_id = ${victim!}`).toHaveLength(0);
  });

  it('signs in a user whose provider gives no email at all, as the same user every time', async () => {
    const sub = `idp|${crypto.randomUUID()}`;
    const first = await signIn(await idToken({ sub }));
    const second = await signIn(await idToken({ sub }));
    expect(first.status).toBe(200);
    expect((second.body as TokenBody).actor.id).toBe((first.body as TokenBody).actor.id);
  });

  it.each([
    ['a ten-day lifetime', { iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 10 * 86_400 }],
    [
      'a lifetime of 24 h and a second',
      { iat: Math.floor(Date.now() / 1000) - 60, exp: Math.floor(Date.now() / 1000) + 86_341 },
    ],
    ['no iat', { iat: null }],
    ['no exp', { exp: null }],
    ['an iat in the future', { iat: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 1200 }],
  ])('refuses an ID token with %s', async (_name, options) => {
    const response = await signIn(await idToken({ email: `${unique('x')}@example.com` }, options));
    expect(response.status).toBe(401);
    expect(errorCode(response.body)).toBe('INVALID_TOKEN');
  });

  it('accepts a lifetime of exactly 24 h', async () => {
    const iat = Math.floor(Date.now() / 1000) - 60;
    const response = await signIn(await idToken({ email: `${unique('day')}@example.com` }, { iat, exp: iat + 86_400 }));
    expect(response.status).toBe(200);
  });
});
