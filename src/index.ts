/** The Worker entry point: wires platform events to the modules that own them. */
import type { Env } from './env.ts';
import { handleFetch } from './http/app.ts';

export { OrgRooms } from './rooms/org-rooms.ts';
export { DocumentRoom } from './rooms/room.ts';

export default {
  fetch: handleFetch,
} satisfies ExportedHandler<Env>;
