import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt } from 'drizzle-orm';
import type { Role, WorkspaceId } from '../../auth/auth-context';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { memberships, users, workspaces } from '../../db/schema';

export interface MemberRow {
  userId: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
}

const memberColumns = {
  userId: memberships.userId,
  email: users.email,
  name: users.name,
  role: memberships.role,
  createdAt: memberships.createdAt,
};

/** Memberships of one workspace. Every method takes the WorkspaceId first. */
@Injectable()
export class MembersRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async list(workspaceId: WorkspaceId, limit: number, afterUserId?: string): Promise<MemberRow[]> {
    return this.db
      .select(memberColumns)
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.workspaceId, workspaceId), afterUserId ? gt(memberships.userId, afterUserId) : undefined))
      .orderBy(asc(memberships.userId))
      .limit(limit + 1);
  }

  async find(workspaceId: WorkspaceId, userId: string): Promise<MemberRow | undefined> {
    const [row] = await this.db
      .select(memberColumns)
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
    return row;
  }

  /** Adds the user; false when they already belong to the workspace. */
  async add(workspaceId: WorkspaceId, userId: string, role: Role): Promise<boolean> {
    const rows = await this.db
      .insert(memberships)
      .values({ workspaceId, userId, role })
      .onConflictDoNothing()
      .returning({ userId: memberships.userId });
    return rows.length > 0;
  }

  /**
   * Changes a role (or removes the member when `role` is null) unless that would leave the
   * workspace without an owner. The workspace row is locked, so two concurrent demotions
   * cannot both pass the check.
   */
  async changeMembership(workspaceId: WorkspaceId, userId: string, role: Role | null): Promise<'ok' | 'last_owner'> {
    return this.db.transaction(async (tx) => {
      await tx.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, workspaceId)).for('update');
      const [current] = await tx
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
      if (current?.role === 'owner' && role !== 'owner') {
        const [owners] = await tx
          .select({ n: count() })
          .from(memberships)
          .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.role, 'owner')));
        if (owners.n <= 1) return 'last_owner';
      }
      const where = and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId));
      if (role) await tx.update(memberships).set({ role }).where(where);
      else await tx.delete(memberships).where(where);
      return 'ok';
    });
  }
}
