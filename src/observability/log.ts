/**
 * Structured JSON logs, one line per event, ready for Workers Logs (`[observability]` in
 * wrangler.toml). Callers pass named fields; nothing here ever receives a token, a key, a secret or a
 * request body — the field set is closed (`LogFields`), so a new field is a deliberate decision.
 *
 * Every line written during an operation also carries that operation's request id, actor and
 * organization without their being passed: the entry point runs the operation inside its context
 * (`runInContext` of `context.ts`), which sets them here, in an AsyncLocalStorage, for everything the
 * operation calls — concurrent operations each see their own. Fields a caller passes win.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

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

/** What every line of an operation carries: who performs it, in which organization, for which request. */
export type OperationFields = Pick<LogFields, 'requestId' | 'actor' | 'onBehalfOf' | 'organizationId'>;

const operation = new AsyncLocalStorage<OperationFields>();

/** Runs `fn` with `fields` on every line it logs (`context.ts` calls this for each operation). */
export function withOperationFields<T>(fields: OperationFields, fn: () => T): T {
  return operation.run(fields, fn);
}

/**
 * @example
 * log({ level: 'warn', msg: 'job was taken over by another run', jobId }) // + requestId, actor, organizationId
 */
export function log(fields: LogFields): void {
  const line = JSON.stringify({ at: new Date().toISOString(), ...operation.getStore(), ...fields });
  if (fields.level === 'error') console.error(line);
  else if (fields.level === 'warn') console.warn(line);
  else console.log(line);
}
