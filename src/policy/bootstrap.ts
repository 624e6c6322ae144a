/**
 * What the system actor may do (SPEC §1): the bootstrap actions and scheduled maintenance, nothing
 * else. Any other action with a system actor is refused, whatever the caller claims.
 */
import type { Actor } from '../actor/actor.ts';
import { isSystemActor } from '../actor/guards.ts';
import { InsufficientPermissions } from '../errors.ts';

export const SYSTEM_ACTIONS = [
  'bootstrap:create-organization',
  'bootstrap:load-user',
  'bootstrap:load-api-key',
  'maintenance:run',
] as const;
export type SystemAction = (typeof SYSTEM_ACTIONS)[number];

/**
 * @example
 * assertSystemAction(systemActor('token exchange'), 'bootstrap:load-user') // passes
 * assertSystemAction(userActor, 'bootstrap:load-user') // throws InsufficientPermissions
 */
export function assertSystemAction(actor: Actor, action: SystemAction): void {
  if (!isSystemActor(actor) || !(SYSTEM_ACTIONS as readonly string[]).includes(action)) {
    throw new InsufficientPermissions();
  }
}
