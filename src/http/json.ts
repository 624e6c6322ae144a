/** JSON responses and request bodies: the size limit (SPEC §3: 64 KiB) and a schema check. */
import type { z } from 'zod';
import { PayloadTooLarge, ValidationFailed } from '../errors.ts';
import { uncleanTextIssues } from '../text.ts';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A JSON answer: `content-type: application/json` (RFC 8259: JSON is UTF-8 and the type has no charset
 * parameter). `Response.json` rather than a `Headers` object and `new Response`: in workerd every
 * `Headers` and `Response` is a runtime object, and the one call costs about half as much
 * (`npm run bench`, `http.pipeline_vs_hono_cpu_ratio`).
 */
export function json(body: unknown, init: ResponseInit = {}): Response {
  return Response.json(body, init);
}

/**
 * Reads at most 64 KiB of the body (whatever `content-length` claims), parses it as JSON and checks it
 * against `schema`. Unknown fields are refused by the schemas themselves (`z.strictObject`). Every string
 * and field name of every body is checked for NUL and invalid UTF-16 first (SPEC §3 "Text input"), so no
 * schema can forget it.
 */
export async function readJson<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  return parseBody(await readBodyText(request), schema);
}

/** As `readJson`, for a body that may be left out: no body (or an empty one) reads as `{}`. */
export async function readOptionalJson<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const text = await readBodyText(request);
  return parseBody(text.trim() === '' ? '{}' : text, schema);
}

async function readBodyText(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw new PayloadTooLarge();
  return readLimited(request);
}

function parseBody<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationFailed([{ path: '', message: 'The body is not valid JSON.' }]);
  }
  const unclean = uncleanTextIssues(value);
  if (unclean.length > 0) throw new ValidationFailed(unclean);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationFailed(
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  return parsed.data;
}

async function readLimited(request: Request): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    // A client that goes away mid-body (a slow or aborted upload) is a malformed request, not a 500.
    const { done, value } = await reader.read().catch(() => {
      throw new ValidationFailed([{ path: '', message: 'The body ended before it was complete.' }]);
    });
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new PayloadTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ValidationFailed([{ path: '', message: 'The body is not valid UTF-8.' }]);
  }
}
