/** The Node-side tests' `npm run dev`: one implementation, shared with `npm run load` (scripts/lib/dev-server.ts). */
export { type DevServer, startDevServer } from '../../../scripts/lib/dev-server.ts';
