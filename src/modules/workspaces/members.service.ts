import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { AuthContext, Role } from '../../auth/auth-context';
import { Authenticator } from '../../auth/authenticator';
import { IdentityRepository } from '../../auth/identity.repository';
import { DomainError, notFound } from '../../common/errors/domain-error';
import { decodeCursor, toPage, type PaginationQuery } from '../../common/http/pagination';
import { MembersRepository, type MemberRow } from './members.repository';

export function toMemberJson(m: MemberRow) {
  return { user_id: m.userId, email: m.email, name: m.name, role: m.role, created_at: m.createdAt.toISOString() };
}

const cursorSchema = z.object({ u: z.uuid() });

/**
 * Membership rules: owners and admins manage members; only an owner may make someone an owner
 * or change/remove an owner (ownership transfer); a workspace always keeps one owner.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly repo: MembersRepository,
    private readonly identity: IdentityRepository,
    private readonly authenticator: Authenticator,
  ) {}

  async list(auth: AuthContext, page: PaginationQuery) {
    const after = decodeCursor(page.cursor, cursorSchema);
    const rows = await this.repo.list(auth.workspaceId, page.limit, after?.u);
    return toPage(rows, page.limit, toMemberJson, (r) => ({ u: r.userId }));
  }

  async add(auth: AuthContext, email: string, role: Role) {
    if (role === 'owner') this.assertCanTransferOwnership(auth);
    const user = await this.identity.userByEmail(email);
    if (!user) throw new DomainError('not_found', 'No user with this email; they must register first');
    if (!(await this.repo.add(auth.workspaceId, user.id, role)))
      throw new DomainError('conflict', 'This user is already a member of the workspace');
    return toMemberJson((await this.repo.find(auth.workspaceId, user.id))!);
  }

  async update(auth: AuthContext, userId: string, role: Role) {
    const member = await this.repo.find(auth.workspaceId, userId);
    if (!member) throw notFound('Member');
    if (member.role === 'owner' || role === 'owner') this.assertCanTransferOwnership(auth);
    if ((await this.repo.changeMembership(auth.workspaceId, userId, role)) === 'last_owner')
      throw new DomainError('conflict', 'The workspace must keep at least one owner');
    this.authenticator.invalidate();
    return { ...toMemberJson(member), role };
  }

  async remove(auth: AuthContext, userId: string): Promise<void> {
    const member = await this.repo.find(auth.workspaceId, userId);
    if (!member) throw notFound('Member');
    if (member.role === 'owner') this.assertCanTransferOwnership(auth);
    if ((await this.repo.changeMembership(auth.workspaceId, userId, null)) === 'last_owner')
      throw new DomainError('conflict', 'The workspace must keep at least one owner');
    this.authenticator.invalidate();
  }

  private assertCanTransferOwnership(auth: AuthContext): void {
    if (!auth.scopes.has('ownership:transfer'))
      throw new DomainError('forbidden', 'Only an owner can grant, change or remove the owner role');
  }
}
