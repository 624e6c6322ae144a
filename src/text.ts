/**
 * Text the API accepts (SPEC §3 "Text input"): a string containing NUL (U+0000) or invalid UTF-16 (a
 * lone surrogate) is refused at validation with `VALIDATION_FAILED`. Postgres refuses NUL in `text` and
 * `jsonb`, and a lone surrogate has no UTF-8 form (the driver would silently store U+FFFD instead), so
 * neither may reach the database. One check, used by the JSON body reader (every body), the query
 * reader, the path check and the ID-token claims; it knows nothing of HTTP or of any schema.
 */
import { ValidationFailed, type ValidationIssue } from './errors.ts';

// With the `u` flag a surrogate pair is one code point, so `\p{Cs}` matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;
const MESSAGE = 'The text contains a NUL character or invalid UTF-16.';
const MAX_ISSUES = 20;

/**
 * @example
 * isCleanText('Plan') // true
 * isCleanText('a\u0000b') // false: NUL
 * isCleanText('\ud800') // false: a lone surrogate
 */
export function isCleanText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/**
 * Throws `VALIDATION_FAILED` naming each field whose text is not clean (null and undefined pass).
 *
 * @example
 * assertCleanText({ 'id_token.email': identity.email, 'id_token.name': identity.name })
 */
export function assertCleanText(fields: Record<string, string | null | undefined>): void {
  const details: ValidationIssue[] = [];
  for (const [path, value] of Object.entries(fields)) {
    if (typeof value === 'string' && !isCleanText(value)) details.push({ path, message: MESSAGE });
  }
  if (details.length > 0) throw new ValidationFailed(details);
}

interface Entry {
  readonly value: unknown;
  readonly key: string | number | null;
  readonly parent: Entry | null;
}

/**
 * The issues of every string (and object key) in a parsed JSON value that is not clean, with its path
 * (`scopes.1`); at most 20. Iterative, so a deeply nested body can't overflow the stack.
 *
 * @example
 * uncleanTextIssues({ title: 'a\u0000' }) // [{ path: 'title', message: '…' }]
 */
export function uncleanTextIssues(root: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const stack: Entry[] = [{ value: root, key: null, parent: null }];
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const entry = stack.pop()!;
    const { value } = entry;
    if (typeof value === 'string') {
      if (!isCleanText(value)) issues.push({ path: pathOf(entry), message: MESSAGE });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: entry });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value).reverse()) {
        // A bad key is reported at its object's path: the key itself is not echoed back.
        if (!isCleanText(key)) issues.push({ path: pathOf(entry), message: `A field name: ${MESSAGE}` });
        else stack.push({ value: item, key, parent: entry });
      }
    }
  }
  return issues.slice(0, MAX_ISSUES);
}

function pathOf(entry: Entry): string {
  const keys: (string | number)[] = [];
  for (let e: Entry | null = entry; e !== null && e.key !== null; e = e.parent) keys.push(e.key);
  return keys.reverse().join('.');
}
