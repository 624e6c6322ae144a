/** Query parameters checked against a strict schema: unknown parameters are refused like unknown fields. */
import * as z from 'zod';
import { ValidationFailed } from '../errors.ts';

/** For routes that take no parameters at all. */
export const NoQuery = z.strictObject({});

export function readQuery<S extends z.ZodType>(request: Request, schema: S): z.infer<S> {
  const url = new URL(request.url);
  const values: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
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
