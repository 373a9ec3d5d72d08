import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { DRIZZLE } from '../db/database.module';
import { memberships, refreshTokens, users, workspaces } from '../db/schema';
import type { Role, WorkspaceId } from './auth-context';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;

export type UserRow = typeof users.$inferSelect;
export type WorkspaceRow = typeof workspaces.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

/**
 * Users and their sessions. Users are global (one person, many workspaces), so lookups by
 * email or user id are not workspace-scoped; everything that reads a workspace's data takes
 * the WorkspaceId first.
 */
@Injectable()
export class IdentityRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async userByEmail(email: string, ex: Executor = this.db): Promise<UserRow | undefined> {
    const [row] = await ex.select().from(users).where(eq(users.email, email));
    return row;
  }

  async userById(userId: string, ex: Executor = this.db): Promise<UserRow | undefined> {
    const [row] = await ex.select().from(users).where(eq(users.id, userId));
    return row;
  }

  async insertUser(ex: Executor, values: { email: string; name: string; passwordHash: string }): Promise<UserRow | undefined> {
    const [row] = await ex.insert(users).values(values).onConflictDoNothing({ target: users.email }).returning();
    return row;
  }

  async insertWorkspace(ex: Executor, name: string): Promise<WorkspaceRow> {
    const [row] = await ex.insert(workspaces).values({ name }).returning();
    return row;
  }

  async workspaceById(workspaceId: WorkspaceId, ex: Executor = this.db): Promise<WorkspaceRow | undefined> {
    const [row] = await ex.select().from(workspaces).where(eq(workspaces.id, workspaceId));
    return row;
  }

  async insertMembership(ex: Executor, workspaceId: WorkspaceId, userId: string, role: Role): Promise<void> {
    await ex.insert(memberships).values({ workspaceId, userId, role });
  }

  async membership(workspaceId: WorkspaceId, userId: string, ex: Executor = this.db): Promise<Role | undefined> {
    const [row] = await ex
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
    return row?.role;
  }

  /** Every workspace the user belongs to, oldest membership first. */
  async workspacesOfUser(userId: string): Promise<Array<{ id: string; name: string; role: Role }>> {
    return this.db
      .select({ id: workspaces.id, name: workspaces.name, role: memberships.role })
      .from(memberships)
      .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
      .where(eq(memberships.userId, userId))
      .orderBy(asc(memberships.createdAt), asc(workspaces.id));
  }

  async insertRefreshToken(
    ex: Executor,
    values: { familyId: string; userId: string; workspaceId: WorkspaceId; tokenHash: string; expiresAt: Date },
  ): Promise<void> {
    await ex.insert(refreshTokens).values(values);
  }

  /**
   * Marks a live refresh token as used, atomically: of two concurrent refreshes with the same
   * token exactly one gets the row back.
   */
  async spendRefreshToken(ex: Executor, tokenHash: string): Promise<RefreshTokenRow | undefined> {
    const [row] = await ex
      .update(refreshTokens)
      .set({ usedAt: sql`now()` })
      .where(
        and(
          eq(refreshTokens.tokenHash, tokenHash),
          isNull(refreshTokens.usedAt),
          isNull(refreshTokens.revokedAt),
          sql`${refreshTokens.expiresAt} > now()`,
        ),
      )
      .returning();
    return row;
  }

  async refreshTokenByHash(tokenHash: string, ex: Executor = this.db): Promise<RefreshTokenRow | undefined> {
    const [row] = await ex.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
    return row;
  }

  /** Revokes every token of a session (rotation chain); returns how many were live. */
  async revokeFamily(familyId: string, ex: Executor = this.db): Promise<void> {
    await ex
      .update(refreshTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
  }

  /** Drops refresh tokens that expired more than a day ago (housekeeping). */
  async deleteExpiredRefreshTokens(): Promise<number> {
    const res = await this.db.delete(refreshTokens).where(sql`${refreshTokens.expiresAt} < now() - interval '1 day'`);
    return res.rowCount ?? 0;
  }
}
