/**
 * Structured JSON logs, one line per event, ready for Workers Logs (`[observability]` in
 * wrangler.toml). Callers pass named fields; nothing here ever receives a token, a key, a secret or a
 * request body — the field set is closed (`LogFields`), so a new field is a deliberate decision.
 */

export interface LogFields {
  level: 'info' | 'warn' | 'error';
  msg: string;
  requestId?: string;
  actor?: { type: string; id: string };
  /** Whom the actor acts for: an agent's delegating user. */
  onBehalfOf?: { type: string; id: string };
  organizationId?: string | null;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
  roomId?: string;
  connectionId?: string;
  code?: string;
  jobId?: string;
  /** A queue message's id, and which delivery of it this is (from 1). */
  messageId?: string;
  attempt?: number;
  /** How many rows a maintenance action changed. */
  count?: number;
  action?: string;
  error?: string;
}

export function log(fields: LogFields): void {
  const line = JSON.stringify({ at: new Date().toISOString(), ...fields });
  if (fields.level === 'error') console.error(line);
  else if (fields.level === 'warn') console.warn(line);
  else console.log(line);
}
