/**
 * The HTTP side of `npm run load`: virtual users, each looping over a weighted mix of operations on a
 * random organization until the deadline or the request budget — document reads, lists, writes,
 * creates, and requests with bad tokens. A write appends a unique marker to the body at the version
 * it last saw; a 409 re-reads the document and tries again, as a careful client does. Every accepted
 * write and every created document goes into the organization's ledger for the checks at the end;
 * any answer an operation doesn't expect is kept for the report.
 */
import { NO_ANSWER, type Recorder } from './recorder.ts';
import type { DocumentState, LoadOrganization } from './tenants.ts';

export interface Limits {
  /** `performance.now()` after which no new request starts. */
  readonly deadline: number;
  readonly maxRequests: number;
}

export interface Unexpected {
  op: string;
  status: number;
  code?: string;
}

const MIX: [Operation, number][] = [
  ['read', 40],
  ['list', 10],
  ['write', 32],
  ['create', 8],
  ['bad token', 10],
];
type Operation = 'read' | 'list' | 'write' | 'create' | 'bad token';
const TOTAL_WEIGHT = MIX.reduce((sum, [, weight]) => sum + weight, 0);
/** Re-reads after a 409 before a write gives up (it then counts as `write gave up`, not as lost). */
const MAX_WRITE_ATTEMPTS = 25;
/** SPEC: a body is at most 60,000 characters; a document this full gets no more markers. */
const MAX_BODY = 58_000;

export class HttpTraffic {
  readonly #recorder: Recorder;
  readonly #organizations: LoadOrganization[];
  readonly unexpected: Unexpected[] = [];
  /** Writes that never got through the contention (never an error: nothing was accepted, nothing lost). */
  gaveUp = 0;
  conflicts = 0;

  constructor(recorder: Recorder, organizations: LoadOrganization[]) {
    this.#recorder = recorder;
    this.#organizations = organizations;
  }

  async virtualUser(vu: number, limits: Limits): Promise<void> {
    for (let n = 0; performance.now() < limits.deadline && this.#recorder.requests < limits.maxRequests; n++) {
      const organization = pick(this.#organizations);
      const operation = pickOperation();
      if (operation === 'read') await this.#read(organization);
      else if (operation === 'list') await this.#list(organization);
      else if (operation === 'write') await this.#write(organization, `<${vu}.${n}>`);
      else if (operation === 'create') await this.#create(organization, `<${vu}.${n}>`);
      else await this.#badToken(organization);
    }
  }

  async #read(organization: LoadOrganization): Promise<void> {
    const document = pick(organization.documents);
    const token = Math.random() < 0.5 ? organization.tokens.viewer : pick(organization.tokens.editors);
    const answer = await this.#recorder.call('GET', `/v1/documents/${document.id}`, { op: 'read', token });
    if (answer.status === 200) observe(document, answer.body!.document as Observed);
    else this.#unexpected('read', answer);
  }

  async #list(organization: LoadOrganization): Promise<void> {
    const token = Math.random() < 0.5 ? organization.tokens.viewer : pick(organization.tokens.editors);
    const answer = await this.#recorder.call('GET', '/v1/documents?limit=20', { op: 'list', token });
    if (answer.status !== 200) this.#unexpected('list', answer);
  }

  async #write(organization: LoadOrganization, marker: string): Promise<void> {
    const document = pick(organization.documents);
    const token = pick(organization.tokens.editors);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      if (document.body.length + marker.length > MAX_BODY) return;
      const body = { body: `${document.body}${marker}`, version: document.version };
      const answer = await this.#recorder.call('PATCH', `/v1/documents/${document.id}`, { op: 'write', token, body });
      if (answer.status === 200) {
        observe(document, answer.body!.document as Observed);
        organization.accepted.push({ documentId: document.id, marker });
        return;
      }
      if (answer.status === NO_ANSWER || answer.status >= 500) {
        organization.uncertain.push({ kind: 'write', documentId: document.id, marker });
      }
      if (answer.status !== 409) return this.#unexpected('write', answer);
      // Someone else's write landed first: re-read and append to what is there now.
      this.conflicts += 1;
      const current = await this.#recorder.call('GET', `/v1/documents/${document.id}`, { op: 'write re-read', token });
      if (current.status !== 200) return this.#unexpected('write re-read', current);
      observe(document, current.body!.document as Observed);
    }
    this.gaveUp += 1;
  }

  async #create(organization: LoadOrganization, marker: string): Promise<void> {
    const token = pick(organization.tokens.editors);
    const body = { title: `load ${marker}`, body: marker };
    const answer = await this.#recorder.call('POST', '/v1/documents', { op: 'create', token, body });
    if (answer.status === NO_ANSWER || answer.status >= 500) organization.uncertain.push({ kind: 'create', marker });
    if (answer.status !== 201) return this.#unexpected('create', answer);
    const document = answer.body!.document as Observed & { id: string };
    organization.created.push(document.id);
    organization.documents.push({ id: document.id, version: document.version, body: document.body });
  }

  /** A malformed token, a token whose signature was altered, and an unsigned (`alg: none`) one: all 401. */
  async #badToken(organization: LoadOrganization): Promise<void> {
    const real = organization.tokens.viewer;
    const [header, claims, signature] = real.split('.') as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const flipped = signature[middle] === 'A' ? 'B' : 'A';
    const tokens = [
      'not-a-token',
      `${header}.${claims}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`,
      `${Buffer.from('{"alg":"none","typ":"actor+jwt"}').toString('base64url')}.${claims}.`,
    ];
    const answer = await this.#recorder.call('GET', '/v1/documents', { op: 'bad token', token: pick(tokens) });
    if (answer.status !== 401) this.#unexpected('bad token', answer);
  }

  #unexpected(op: string, answer: { status: number; code?: string }): void {
    this.unexpected.push({ op, status: answer.status, ...(answer.code ? { code: answer.code } : {}) });
  }
}

type Observed = { version: number; body: string };

/** Keeps the newest state seen of a document (answers to concurrent requests arrive in any order). */
function observe(document: DocumentState, seen: Observed): void {
  if (seen.version > document.version) {
    document.version = seen.version;
    document.body = seen.body;
  }
}

function pick<T>(values: readonly T[]): T {
  return values[Math.floor(Math.random() * values.length)]!;
}

function pickOperation(): Operation {
  let roll = Math.random() * TOTAL_WEIGHT;
  for (const [operation, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return operation;
  }
  return 'read';
}
