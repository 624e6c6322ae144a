/** Query parameters checked against a strict schema: unknown parameters are refused like unknown fields. */
import * as z from 'zod';
import { ValidationFailed } from '../errors.ts';

/** For routes that take no parameters at all. */
export const NoQuery = z.strictObject({});

export function readQuery<S extends z.ZodType>(request: Request, schema: S): z.infer<S> {
  const values: Record<string, string> = {};
  // A URL without `?` has no parameters: no need to parse it again.
  const params = request.url.includes('?') ? new URL(request.url).searchParams : [];
  for (const [key, value] of params) {
    if (key in values) throw new ValidationFailed([{ path: key, message: 'The parameter is repeated.' }]);
    values[key] = value;
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    throw new ValidationFailed(
      parsed.error.issues.map((issue) => ({
        path: issue.path.join('.') || ('keys' in issue ? issue.keys.join(',') : ''),
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}
