/**
 * SPEC §3 "Text input" for the URL: every path segment and query parameter of every request, before
 * routing. A segment whose percent-encoding doesn't decode to UTF-8 (`%FF`, an encoded lone surrogate
 * `%ED%A0%80`) or decodes to NUL (`%00`), and a query name or value with NUL, is 400 `VALIDATION_FAILED`.
 * Bodies are checked by the JSON reader (`json.ts`); neither knows any route.
 */
import { ValidationFailed } from '../errors.ts';
import { isCleanText } from '../text.ts';

const MESSAGE = 'The URL contains a NUL character or bytes that are not UTF-8.';

/**
 * @example
 * Router({ before: [refuseUncleanUrl] }) // GET /v1/documents/%00 → 400 VALIDATION_FAILED
 */
export function refuseUncleanUrl(request: Request): undefined {
  // Fast path: without a `%` the URL is plain ASCII (the URL parser escapes everything else), so there
  // is nothing to decode and no need to parse it again.
  if (!request.url.includes('%')) return undefined;
  const url = new URL(request.url);
  if (url.pathname.includes('%')) {
    for (const segment of url.pathname.split('/')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        throw new ValidationFailed([{ path: 'path', message: MESSAGE }]);
      }
      if (!isCleanText(decoded)) throw new ValidationFailed([{ path: 'path', message: MESSAGE }]);
    }
  }
  if (url.search.includes('%')) {
    for (const [key, value] of url.searchParams) {
      // The name is not echoed back when it is the bad part.
      if (!isCleanText(key)) throw new ValidationFailed([{ path: 'query', message: MESSAGE }]);
      if (!isCleanText(value)) throw new ValidationFailed([{ path: key, message: MESSAGE }]);
    }
  }
  return undefined;
}
