/** A document's realtime room (SPEC §4): one Durable Object per document. */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';

export class DocumentRoom extends DurableObject<Env> {}
