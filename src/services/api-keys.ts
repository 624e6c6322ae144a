/**
 * API keys (SPEC §3): created by a user with `api_keys:write`, with scopes that may not exceed what
 * that user may do; the secret is returned once and stored only as a hash. Revoking a key refuses the
 * tokens minted from it (`TOKEN_REVOKED`) and any further exchange.
 */
import { desc, eq, sql } from 'drizzle-orm';
import type * as z from 'zod';
import type { CreateApiKey } from '../contract/requests.ts';
import { apiKeys } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';
import { InsufficientPermissions, NotFound } from '../errors.ts';
import { databaseNow, noteRevocation, revokedCte } from '../identity/revocations.ts';
import { permissionsOfActor } from '../policy/authorize.ts';
import { defineAction } from './action.ts';
import { auditedCte, withAudit } from './audit.ts';
import { hashApiKeySecret, newApiKeySecret } from './auth/api-key-secret.ts';
import { resourceId } from './ids.ts';
import { revokeInRooms } from './rooms.ts';

export interface ApiKeyView {
  id: string;
  name: string;
  scopes: string[];
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  scopes: string[];
  createdBy: string;
  createdAt: Date | string;
  revokedAt: Date | string | null;
}

function view(row: Row): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    // The principal format of every `createdBy` (README): only a user makes a key, so the column holds a user id.
    createdBy: `user:${row.createdBy}`,
    createdAt: new Date(row.createdAt).toISOString(),
    revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt).toISOString(),
  };
}

export const createApiKey = defineAction({
  name: 'api_keys.create',
  permission: 'api_keys:write',
  resource: 'api_key',
  async run(ctx, input: z.infer<typeof CreateApiKey>) {
    // A key acts for the user who made it: only a user makes one, and never with more than they have.
    if (ctx.actor.type !== 'user') throw new InsufficientPermissions('api_keys:write');
    const mine = permissionsOfActor(ctx.actor);
    const excess = input.scopes.filter((s) => !mine.has(s));
    if (excess.length > 0) throw new InsufficientPermissions(excess[0]);
    const secret = newApiKeySecret();
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(
        withAudit(
          ctx,
          sql`insert into api_keys (organization_id, name, scopes, secret_hash, created_by)
              values (${ctx.organizationId}, ${input.name}, string_to_array(${input.scopes.join(' ')}, ' '),
                      ${await hashApiKeySecret(secret)}, ${ctx.actor.id})
              returning id, id as "resourceId", name, scopes, created_by as "createdBy", created_at as "createdAt",
                        revoked_at as "revokedAt"`,
        ),
      ),
    ]);
    return { apiKey: view(result.rows[0] as unknown as Row), secret };
  },
});

export const listApiKeys = defineAction({
  name: 'api_keys.list',
  permission: 'api_keys:write',
  resource: 'api_key',
  async run(ctx, _input: undefined) {
    const { db } = ctx;
    const [rows] = await runScoped(db, ctx.scope, [
      db
        .select({
          id: apiKeys.id,
          name: apiKeys.name,
          scopes: apiKeys.scopes,
          createdBy: apiKeys.createdBy,
          createdAt: apiKeys.createdAt,
          revokedAt: apiKeys.revokedAt,
        })
        .from(apiKeys)
        .where(eq(apiKeys.organizationId, ctx.organizationId))
        .orderBy(desc(apiKeys.createdAt)),
    ]);
    return rows.map(view);
  },
});

export const revokeApiKey = defineAction({
  name: 'api_keys.revoke',
  permission: 'api_keys:write',
  resource: 'api_key',
  resourceId: (id: string) => id,
  after: [
    async function closeSockets(ctx, _id, result: { id: string; revokedAt: number }) {
      await revokeInRooms(ctx.env, ctx.organizationId, 'service', result.id, result.revokedAt);
    },
  ],
  async run(ctx, id: string) {
    resourceId(id);
    const { db } = ctx;
    const [result] = await runScoped(db, ctx.scope, [
      db.execute(sql`with changed as (
          update api_keys set revoked_at = ${databaseNow}
          where id = ${id} and organization_id = ${ctx.organizationId} and revoked_at is null
          returning id as "resourceId", revoked_at
        ), ${auditedCte(ctx)}, ${revokedCte(ctx.organizationId, 'service', sql`"resourceId"`)}
        select (select revoked_at from revoked) as "revokedAt"`),
    ]);
    const revokedAt = (result.rows[0] as { revokedAt: Date | null } | undefined)?.revokedAt;
    // Unknown, another organization's, or already revoked: nothing to revoke.
    if (!revokedAt) throw new NotFound();
    noteRevocation(ctx.organizationId, 'service', id, new Date(revokedAt));
    return { id, revokedAt: new Date(revokedAt).getTime() };
  },
});
