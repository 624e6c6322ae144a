/**
 * The checks `npm run load` ends with, per organization, against what the service itself reports once
 * the load has stopped (read through the API as the owner):
 *
 * - no lost update: every accepted write's marker is in its document's final body, and each
 *   document's version counts exactly the writes that landed on it (nothing landed unrecorded);
 * - nothing created vanished: every 201-created document is listed, and nothing else is;
 * - audit equals landed mutations: the `documents.create` and `documents.update` success events
 *   (`GET /v1/audit`, paged) are exactly as many as the documents created and the writes landed.
 *
 * With every request answered, "landed" is exactly the 201s and the accepted writes. A request that got
 * no answer or a 5xx (itself a failed check) may have landed or not; its unique marker tells which, so
 * the checks stay exact either way.
 */
import type { Recorder } from './recorder.ts';
import type { LoadOrganization } from './tenants.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface Listed {
  id: string;
  title: string;
  body: string;
  version: number;
}

async function pages<T>(recorder: Recorder, path: string, token: string, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const answer = await recorder.call('GET', `${path}${query}`, { op: 'verify', token });
    if (answer.status !== 200) throw new Error(`verify: GET ${path} answered ${answer.status} ${answer.code ?? ''}`);
    items.push(...(answer.body![key] as T[]));
    cursor = answer.body!.nextCursor as string | null;
  } while (cursor);
  return items;
}

const count = <T>(values: T[], key: (value: T) => string) => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(key(value), (counts.get(key(value)) ?? 0) + 1);
  return counts;
};

export async function verifyOrganization(recorder: Recorder, organization: LoadOrganization): Promise<Check[]> {
  const name = (check: string) => `organization ${organization.index}: ${check}`;
  const listed = await pages<Listed>(recorder, '/v1/documents', organization.tokens.owner, 'documents');
  const byId = new Map(listed.map((document) => [document.id, document]));
  const titles = new Set(listed.map((document) => document.title));
  const landedUnanswered = organization.uncertain.filter((u) =>
    u.kind === 'create' ? titles.has(`load ${u.marker}`) : byId.get(u.documentId!)?.body.includes(u.marker),
  );

  // Updates: accepted markers all there; each version counts the accepted writes plus unanswered ones that landed.
  const lost = organization.accepted.filter((write) => !byId.get(write.documentId)?.body.includes(write.marker));
  const writes = [...organization.accepted, ...landedUnanswered.filter((u) => u.kind === 'write')] as {
    documentId: string;
  }[];
  const landedPer = count(writes, (write) => write.documentId);
  const miscounted = listed.filter((document) => document.version - 1 !== (landedPer.get(document.id) ?? 0));

  // Creates: every 201 listed, and nothing listed that wasn't created by this load.
  const vanished = organization.created.filter((id) => !byId.has(id));
  const createsLanded = organization.created.length + landedUnanswered.filter((u) => u.kind === 'create').length;

  const events = await pages<{ action: string; outcome: string }>(
    recorder,
    '/v1/audit',
    organization.tokens.owner,
    'events',
  );
  const audited = (action: string) => events.filter((e) => e.action === action && e.outcome === 'success').length;
  const createEvents = audited('documents.create');
  const updateEvents = audited('documents.update');
  const unanswered = organization.uncertain.length
    ? ` (${landedUnanswered.length} of ${organization.uncertain.length} unanswered requests landed)`
    : '';

  return [
    {
      name: name('no lost update'),
      ok: lost.length === 0 && miscounted.length === 0,
      detail:
        `${organization.accepted.length} accepted writes, ${lost.length} missing from their document; ` +
        `${miscounted.length} documents whose version doesn't count the writes landed${unanswered}`,
    },
    {
      name: name('every created document exists'),
      ok: vanished.length === 0 && listed.length === createsLanded,
      detail: `${organization.created.length} answered 201, ${listed.length} listed, ${vanished.length} missing${unanswered}`,
    },
    {
      name: name('audit events equal landed mutations'),
      ok: createEvents === listed.length && createEvents === createsLanded && updateEvents === writes.length,
      detail:
        `documents.create: ${createEvents} events / ${createsLanded} created; ` +
        `documents.update: ${updateEvents} events / ${writes.length} landed`,
    },
  ];
}
