/**
 * The router: every entry of the route table (`routes.ts`) on itty-router, behind the URL text check
 * (`url-text.ts`), and a 404 for anything else. It adds nothing of its own; how an entry reads its request
 * and answers is `route.ts`'s.
 */
import { type IRequest, Router } from 'itty-router';
import type { Context } from '../context.ts';
import { NotFound } from '../errors.ts';
import { ROUTES } from './routes.ts';
import { refuseUncleanUrl } from './url-text.ts';

export const router = Router<IRequest, [Context]>({ before: [refuseUncleanUrl] });
for (const entry of ROUTES) router[entry.method](entry.path, entry.fetch);
router.all('*', () => {
  throw new NotFound('No such route.');
});

/**
 * The route a request is for, by the router's own table, whether or not it got that far: a request
 * refused before routing (an expired token, say) is still logged with its route. `undefined` when no
 * route but the catch-all matches.
 */
export function routeOf(request: Request): string | undefined {
  const { pathname } = new URL(request.url);
  for (const [method, pattern, , path] of router.routes) {
    if (path === '*') continue;
    if ((method === request.method || method === 'ALL') && pattern.test(pathname)) return path;
  }
  return undefined;
}
