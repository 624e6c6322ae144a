/**
 * The typed TypeScript client for Signet (SPEC §3/§4): every endpoint as a method, request and
 * response types taken from the contract's schemas (`src/contract`, type-only imports: the client
 * knows no server module, and nothing of the contract is bundled), errors as `SignetClientError` with
 * the SPEC's `code`, and `room()` for realtime rooms.
 *
 * @example
 * const signet = createClient({ baseUrl: 'https://signet.example', getToken: () => session.token })
 * const { document } = await signet.documents.create({ title: 'Plan' })
 * const room = signet.room(document.id)
 * room.on('message', (m) => console.log(m.seq, m.data))
 */
import type { z } from 'zod';
import type {
  AddMember,
  ChangeMember,
  CreateApiKey,
  CreateDocument,
  CreateOrganization,
  UpdateDocument,
} from '../contract/requests.ts';
import type * as S from '../contract/schemas.ts';
import { SignetClientError } from './errors.ts';
import { type RoomOptions, SignetRoom } from './room.ts';

export type { ErrorCode } from './errors.ts';
export { isSignetError, SignetClientError } from './errors.ts';
export type { RoomEvents, RoomOptions, RoomState } from './room.ts';
export { SignetRoom } from './room.ts';

export type Document = z.infer<typeof S.Document>;
export type PublicDocument = z.infer<typeof S.PublicDocument>;
export type Member = z.infer<typeof S.Member>;
export type ApiKey = z.infer<typeof S.ApiKey>;
export type AuditEvent = z.infer<typeof S.AuditEvent>;
export type Job = z.infer<typeof S.Job>;
export type Actor = z.infer<typeof S.ActorView>;
export type Membership = z.infer<typeof S.Membership>;
export type TokenResponse = z.infer<typeof S.TokenResponse>;
export type Delegation = z.infer<typeof S.Delegation>;
/** A token exchange's answer (RFC 8693): the agent token and the delegation it stands for. */
export type AgentTokenResponse = TokenResponse & { issued_token_type: string; scope: string; delegation_id: string };

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** What a user delegates to an agent (SPEC §2 token exchange). */
export interface DelegationRequest {
  /** The user's own Signet token for the organization. */
  subjectToken: string;
  /** Permissions, a subset of what the user may do now. */
  scope: readonly string[];
  agent: { name: string };
  /** At most the subject token's remaining life and 3600. */
  ttlSeconds?: number;
}
export type Page = { cursor?: string; limit?: number };

export type Grant =
  | { grant_type: 'id_token'; id_token: string; organization?: string }
  | { grant_type: 'api_key'; api_key: string }
  | {
      grant_type: typeof TOKEN_EXCHANGE;
      subject_token: string;
      subject_token_type: typeof ACCESS_TOKEN;
      scope: string;
      agent: { name: string };
      ttl_seconds?: number;
    }
  | { grant_type: 'dev'; email: string; organization?: string; ttl_seconds?: number };

export interface ClientOptions {
  /** e.g. `https://signet.example` (no trailing path). */
  baseUrl: string;
  /** A fixed token… */
  token?: string;
  /** …or a function asked before every request and every (re)connection: return a fresh token. */
  getToken?: () => string | Promise<string>;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const token = async () => (options.getToken ? await options.getToken() : options.token);

  async function request<T>(method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = authenticated ? await token() : undefined;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new SignetClientError('NETWORK_ERROR', `Could not reach ${base}.`, 0, null);
    }
    const requestId = response.headers.get('x-request-id');
    if (response.status === 204) return undefined as T;
    const payload = (await response.json().catch(() => null)) as {
      error?: z.infer<typeof S.ErrorEnvelope>['error'];
    } | null;
    if (!response.ok) {
      const error = payload?.error;
      throw new SignetClientError(
        error?.code ?? 'INTERNAL_ERROR',
        error?.message ?? `HTTP ${response.status}`,
        response.status,
        error?.requestId ?? requestId,
        error?.details,
      );
    }
    return payload as T;
  }

  const query = (page: Page = {}) => {
    const params = new URLSearchParams();
    if (page.cursor) params.set('cursor', page.cursor);
    if (page.limit !== undefined) params.set('limit', String(page.limit));
    const text = params.toString();
    return text ? `?${text}` : '';
  };
  const segment = encodeURIComponent;

  return {
    exchangeToken: (grant: Grant) => request<TokenResponse>('POST', '/v1/auth/token', grant, false),
    me: () => request<{ actor: Actor }>('GET', '/v1/me'),
    myOrganizations: () => request<{ organizations: Membership[] }>('GET', '/v1/me/orgs'),
    createOrganization: (input: z.input<typeof CreateOrganization>) =>
      request<z.infer<typeof S.Organization>>('POST', '/v1/orgs', input),
    documents: {
      list: (page?: Page) =>
        request<{ documents: Document[]; nextCursor: string | null }>('GET', `/v1/documents${query(page)}`),
      create: (input: z.input<typeof CreateDocument>) =>
        request<{ document: Document }>('POST', '/v1/documents', input),
      get: (id: string) => request<{ document: Document }>('GET', `/v1/documents/${segment(id)}`),
      update: (id: string, input: z.input<typeof UpdateDocument>) =>
        request<{ document: Document }>('PATCH', `/v1/documents/${segment(id)}`, input),
      delete: (id: string) => request<void>('DELETE', `/v1/documents/${segment(id)}`),
      export: (id: string) => request<{ job: Job }>('POST', `/v1/documents/${segment(id)}/exports`, {}),
      getPublic: (id: string) =>
        request<{ document: PublicDocument }>('GET', `/v1/public/documents/${segment(id)}`, undefined, false),
    },
    jobs: {
      get: (id: string) => request<{ job: Job }>('GET', `/v1/jobs/${segment(id)}`),
    },
    members: {
      list: () => request<{ members: Member[] }>('GET', '/v1/members'),
      add: (input: z.input<typeof AddMember>) => request<{ member: Member }>('POST', '/v1/members', input),
      changeRole: (userId: string, input: z.input<typeof ChangeMember>) =>
        request<{ member: { userId: string; role: string } }>('PATCH', `/v1/members/${segment(userId)}`, input),
      remove: (userId: string) => request<void>('DELETE', `/v1/members/${segment(userId)}`),
    },
    apiKeys: {
      create: (input: z.input<typeof CreateApiKey>) =>
        request<{ apiKey: ApiKey; secret: string }>('POST', '/v1/api-keys', input),
      list: () => request<{ apiKeys: ApiKey[] }>('GET', '/v1/api-keys'),
      revoke: (id: string) => request<void>('DELETE', `/v1/api-keys/${segment(id)}`),
    },
    /** Agents acting for the calling user (RFC 8693 delegation). */
    delegations: {
      /** Exchanges a user's own token for an agent token; needs no client token of its own. */
      create: (input: DelegationRequest) =>
        request<AgentTokenResponse>(
          'POST',
          '/v1/auth/token',
          {
            grant_type: TOKEN_EXCHANGE,
            subject_token: input.subjectToken,
            subject_token_type: ACCESS_TOKEN,
            scope: input.scope.join(' '),
            agent: input.agent,
            ...(input.ttlSeconds === undefined ? {} : { ttl_seconds: input.ttlSeconds }),
          },
          false,
        ),
      list: () => request<{ delegations: Delegation[] }>('GET', '/v1/delegations'),
      end: (id: string) => request<void>('DELETE', `/v1/delegations/${segment(id)}`),
    },
    audit: {
      list: (page?: Page) =>
        request<{ events: AuditEvent[]; nextCursor: string | null }>('GET', `/v1/audit${query(page)}`),
    },
    /** Joins a document's realtime room; reconnects with backoff and re-authenticates before expiry. */
    room: (documentId: string, roomOptions: RoomOptions = {}) =>
      new SignetRoom({
        url: `${base.replace(/^http/, 'ws')}/v1/rooms/${segment(documentId)}`,
        getToken: token,
        ...roomOptions,
      }),
  };
}

export type SignetClient = ReturnType<typeof createClient>;
