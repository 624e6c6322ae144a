/**
 * The system actor's own allowance (SPEC §1): the bootstrap actions and scheduled maintenance, for the
 * system actor only — never for an actor that merely looks like one.
 */
import { describe, expect, it } from 'vitest';
import { assertSystemAction, SYSTEM_ACTIONS, type SystemAction } from '../../src/policy/system-actions.ts';
import { aGuest, aService, aSystem, aUser } from '../support/actors.ts';

const refused = expect.objectContaining({ code: 'INSUFFICIENT_PERMISSIONS' });

describe('assertSystemAction', () => {
  it('lets the system actor do each bootstrap action and maintenance', () => {
    expect(SYSTEM_ACTIONS).toEqual([
      'bootstrap:create-organization',
      'bootstrap:load-user',
      'bootstrap:load-api-key',
      'maintenance:run',
    ]);
    for (const action of SYSTEM_ACTIONS) expect(() => assertSystemAction(aSystem('test'), action)).not.toThrow();
  });

  it('refuses every other actor, an owner included, and a hand-made look-alike of the system actor', () => {
    const lookAlike = { type: 'system', reason: 'forged' } as const;
    for (const actor of [aUser({ role: 'owner' }), aService({ scopes: ['org:delete'] }), aGuest(), lookAlike]) {
      for (const action of SYSTEM_ACTIONS) expect(() => assertSystemAction(actor, action)).toThrow(refused);
    }
  });

  it('refuses the system actor anything that is not a system action', () => {
    expect(() => assertSystemAction(aSystem('test'), 'documents:delete' as SystemAction)).toThrow(refused);
  });
});
