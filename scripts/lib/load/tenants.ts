/**
 * The organizations `npm run load` works in, built through the public API as a user would: the dev
 * grant signs the owner in, `POST /v1/orgs` creates the organization, `POST /v1/members` adds two
 * editors and a viewer, and an editor creates the first documents. Each organization also keeps the
 * load's ledger of what it landed there — every 201-created document and every accepted write's marker
 * — for the checks at the end.
 */
import type { CallResult, Recorder } from './recorder.ts';

export interface DocumentState {
  readonly id: string;
  /** The last version and body this load saw (a write starts from them; a 409 re-reads them). */
  version: number;
  body: string;
}

export interface LoadOrganization {
  readonly index: number;
  readonly id: string;
  readonly slug: string;
  readonly tokens: { owner: string; editors: string[]; viewer: string };
  readonly documents: DocumentState[];
  /** Ledger: ids answered 201 by `POST /v1/documents`. */
  readonly created: string[];
  /** Ledger: every write answered 200, with the marker it appended to the body. */
  readonly accepted: { documentId: string; marker: string }[];
  /**
   * Ledger: creates and writes that got no answer or a 5xx — they may or may not have landed (a failed
   * check of their own); their markers tell which did. Creates carry their marker in the title.
   */
  readonly uncertain: { kind: 'create' | 'write'; documentId?: string; marker: string }[];
}

export async function createOrganization(
  recorder: Recorder,
  run: string,
  index: number,
  initialDocuments: number,
): Promise<LoadOrganization> {
  const email = (who: string) => `load-${run}-${index}-${who}@load.signet.dev`;
  const slug = `load-${run}-${index}`;
  const token = async (who: string, organization?: string) => {
    const body = { grant_type: 'dev', email: email(who), organization, ttl_seconds: 3600 };
    let answer = await recorder.call('POST', '/v1/auth/token', { op: 'setup', body });
    // Token exchanges are rate limited per client address: setup waits its turn as a client should.
    for (let attempt = 0; answer.status === 429 && attempt < 10; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, (answer.retryAfter ?? 1) * 1000));
      answer = await recorder.call('POST', '/v1/auth/token', { op: 'setup', body });
    }
    return expect(answer, 200, 'dev grant').body!.access_token as string;
  };
  const created = expect(
    await recorder.call('POST', '/v1/orgs', { op: 'setup', token: await token('owner'), body: { name: slug, slug } }),
    201,
    'create organization',
  );
  const owner = await token('owner', slug);
  for (const [who, role] of [
    ['editor-a', 'editor'],
    ['editor-b', 'editor'],
    ['viewer', 'viewer'],
  ] as const) {
    const body = { email: email(who), role };
    expect(await recorder.call('POST', '/v1/members', { op: 'setup', token: owner, body }), 201, 'add member');
  }
  const organization: LoadOrganization = {
    index,
    id: (created.body!.organization as { id: string }).id,
    slug,
    tokens: {
      owner,
      editors: [await token('editor-a', slug), await token('editor-b', slug)],
      viewer: await token('viewer', slug),
    },
    documents: [],
    created: [],
    accepted: [],
    uncertain: [],
  };
  for (let i = 0; i < initialDocuments; i++) {
    const body = { title: `load document ${i}`, body: '' };
    const answer = expect(
      await recorder.call('POST', '/v1/documents', { op: 'setup', token: organization.tokens.editors[0], body }),
      201,
      'create document',
    );
    const document = answer.body!.document as { id: string; version: number; body: string };
    organization.created.push(document.id);
    organization.documents.push({ id: document.id, version: document.version, body: document.body });
  }
  return organization;
}

function expect(result: CallResult, status: number, what: string): CallResult {
  if (result.status !== status) {
    throw new Error(`setup: ${what} answered ${result.status} ${result.code ?? ''} (expected ${status})`);
  }
  return result;
}
