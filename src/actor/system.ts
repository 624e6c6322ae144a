/**
 * The system actor (SPEC §1): created in code only, never from a token. It carries a `reason` and an
 * unforgeable brand (a module-private symbol), so a look-alike object from untyped code or from JSON is
 * never taken for it. Policies allow it bootstrap actions and scheduled maintenance only.
 */
import type { SystemActor } from './actor.ts';

const BRAND = Symbol('signet.system-actor');

/**
 * @example
 * const actor = systemActor('bootstrap:create-organization')
 */
export function systemActor(reason: string): SystemActor {
  return Object.freeze({ type: 'system', reason, [BRAND]: true } as SystemActor);
}

export function hasSystemBrand(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
