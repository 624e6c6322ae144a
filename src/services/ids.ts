/**
 * Resource ids in paths: a uuid, in lower case (its one spelling: Durable Objects and audit events are
 * named by it), or a resource that can't exist (404, never a 500 from a uuid cast).
 */
import { NotFound } from '../errors.ts';
import { UUID } from '../uuid.ts';

/**
 * @example
 * resourceId(request.params.id) // the id, or NotFound for `1' or 1=1`
 */
export function resourceId(id: string): string {
  if (!UUID.test(id)) throw new NotFound();
  return id.toLowerCase();
}
