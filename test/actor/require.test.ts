import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ServiceActor, UserActor } from '../../src/actor/actor.ts';
import { isActor, isSystemActor } from '../../src/actor/guards.ts';
import { requireActor } from '../../src/actor/require.ts';
import { aGuest, aService, aSystem, aUser, aWebSocket } from '../support/actors.ts';

describe('requireActor', () => {
  it('returns the actor narrowed to the wanted type', () => {
    const user = requireActor({ actor: aUser() }, { type: 'user' });
    expectTypeOf(user).toEqualTypeOf<UserActor>();
    expect(user.type).toBe('user');
    const either = requireActor({ actor: aService() }, { type: ['user', 'service'] });
    expectTypeOf(either).toEqualTypeOf<UserActor | ServiceActor>();
  });

  it('asks a guest to authenticate', () => {
    expect(() => requireActor({ actor: aGuest() }, { type: 'user' })).toThrow(
      expect.objectContaining({ code: 'AUTHENTICATION_REQUIRED' }),
    );
  });

  it('refuses another actor type', () => {
    expect(() => requireActor({ actor: aService() }, { type: 'user' })).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_PERMISSIONS' }),
    );
  });

  it('runs the validators', () => {
    const inOrg = (u: UserActor) => u.organizationId !== null;
    expect(requireActor({ actor: aUser() }, { type: 'user', validators: [inOrg] }).type).toBe('user');
    expect(() =>
      requireActor({ actor: aUser({ organizationId: null }) }, { type: 'user', validators: [inOrg] }),
    ).toThrow(expect.objectContaining({ code: 'INSUFFICIENT_PERMISSIONS' }));
  });

  it('never takes a look-alike object for the system actor', () => {
    const forged = { type: 'system', reason: 'forged' } as never;
    expect(isSystemActor(forged)).toBe(false);
    expect(isSystemActor(aSystem())).toBe(true);
    expect(isSystemActor(JSON.parse(JSON.stringify(aSystem())))).toBe(false);
    expect(() => requireActor({ actor: forged }, { type: 'system' })).toThrow(
      expect.objectContaining({ code: 'AUTHENTICATION_REQUIRED' }),
    );
    expect(requireActor({ actor: aSystem('maintenance') }, { type: 'system' }).reason).toBe('maintenance');
  });

  it('recognises every built-in actor type', () => {
    for (const actor of [aUser(), aService(), aGuest(), aSystem(), aWebSocket()]) expect(isActor(actor)).toBe(true);
    for (const value of [null, 1, 'user', {}, { type: 'user' }, { type: 'bot', id: 'b' }])
      expect(isActor(value)).toBe(false);
  });
});
