/**
 * The shape of a uuid, any version, either case: resource ids in paths, cursors, token claims (`sub`,
 * `org`, `grantor`). A leaf with no imports, so `actor/` (the verifier) and `services/` share one copy.
 */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
