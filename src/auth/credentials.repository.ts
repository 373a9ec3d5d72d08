import { Inject, Injectable } from '@nestjs/common';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { DRIZZLE } from '../db/database.module';
import { apiKeys, memberships, refreshTokens } from '../db/schema';
import type { Role } from './auth-context';

export interface MembershipCheck {
  role: Role;
  sessionRevoked: boolean;
}

export interface StoredApiKey {
  id: string;
  workspaceId: string;
  kind: 'secret' | 'publishable';
  secretHash: string;
  scopes: string[];
  allowedOrigins: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/**
 * The only queries that are not scoped by a workspace id: they read the credential that
 * establishes which workspace a request acts in. Each is one indexed lookup.
 */
@Injectable()
export class CredentialsRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  /** The user's current role in the workspace and whether the token's session was revoked. */
  async membershipForSession(userId: string, workspaceId: string, sessionId: string): Promise<MembershipCheck | undefined> {
    const [row] = await this.db
      .select({
        role: memberships.role,
        sessionRevoked: sql<boolean>`exists(select 1 from ${refreshTokens} where ${refreshTokens.familyId} = ${sessionId} and ${refreshTokens.revokedAt} is not null)`,
      })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
    return row;
  }

  async apiKeyByKeyId(keyId: string): Promise<StoredApiKey | undefined> {
    const [row] = await this.db
      .select({
        id: apiKeys.id,
        workspaceId: apiKeys.workspaceId,
        kind: apiKeys.kind,
        secretHash: apiKeys.secretHash,
        scopes: apiKeys.scopes,
        allowedOrigins: apiKeys.allowedOrigins,
        expiresAt: apiKeys.expiresAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.keyId, keyId));
    return row;
  }

  /** One statement for a whole batch of `last_used_at` updates; never moves a value backwards. */
  async touchApiKeys(batch: Array<{ id: string; at: Date }>): Promise<void> {
    if (!batch.length) return;
    const rows = JSON.stringify(batch.map((b) => ({ id: b.id, at: b.at.toISOString() })));
    await this.db.execute(sql`
      update ${apiKeys} set last_used_at = greatest(coalesce(${apiKeys.lastUsedAt}, v.at), v.at)
      from json_to_recordset(${rows}::json) as v(id uuid, at timestamptz)
      where ${apiKeys.id} = v.id`);
  }
}
