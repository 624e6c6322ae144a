/**
 * What the system actor may do (SPEC §1), and nothing else: the bootstrap actions — creating an
 * organization with its first owner, loading a user or an API key while exchanging a token — and
 * scheduled maintenance (`jobs/maintenance.ts`). Each is a `SystemAction`, checked with
 * `assertSystemAction` before the matching session scope (`bootstrapScope`, `maintenanceScope` of
 * `db/scopes.ts`) is asked for. Any other action with a system actor is refused, whatever the caller
 * claims; business actions refuse it on their own (`policy/authorize.ts` gives it no permission).
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
 * assertSystemAction(systemActor('maintenance'), 'maintenance:run') // passes
 * assertSystemAction(userActor, 'bootstrap:load-user') // throws InsufficientPermissions
 */
export function assertSystemAction(actor: Actor, action: SystemAction): void {
  if (!isSystemActor(actor) || !(SYSTEM_ACTIONS as readonly string[]).includes(action)) {
    throw new InsufficientPermissions();
  }
}
