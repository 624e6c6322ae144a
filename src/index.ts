/** The Worker entry point: wires platform events to the modules that own them. */
import type { Env } from './env.ts';
import { handleFetch } from './http/app.ts';
import { handleJobBatch } from './jobs/consumer.ts';
import { handleScheduled } from './jobs/maintenance.ts';

export { OrgRooms } from './rooms/organization-rooms.ts';
export { DocumentRoom } from './rooms/room.ts';
export { OrgDeletionWorkflow } from './workflows/organization-deletion.ts';

export default {
  fetch: handleFetch,
  queue: handleJobBatch,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env>;
