import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import { DomainError } from '../common/errors/domain-error';
import { ROOT_LOGGER } from '../observability/root-logger';
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokens } from './access-tokens';
import { requireUser, type AuthContext, type Role, type WorkspaceId } from './auth-context';
import { Authenticator, unauthenticated } from './authenticator';
import { IdentityRepository, type Executor, type UserRow } from './identity.repository';
import { LoginThrottle } from './login-throttle';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords';

export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
const REFRESH_PREFIX = 'sbr_';

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface SessionResult {
  user: { id: string; email: string; name: string; created_at: string };
  workspace: { id: string; name: string; role: Role };
  token_type: 'Bearer';
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

export function toUserJson(u: UserRow) {
  return { id: u.id, email: u.email, name: u.name, created_at: u.createdAt.toISOString() };
}

/** Sign-up, sign-in, refresh rotation with reuse detection, logout and workspace switching. */
@Injectable()
export class AuthService implements OnModuleInit, OnModuleDestroy {
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: IdentityRepository,
    private readonly tokens: AccessTokens,
    private readonly throttle: LoginThrottle,
    private readonly authenticator: Authenticator,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    // Compute the timing-equaliser hash now, so the first unknown-email login is not slower.
    void dummyPasswordHash();
    // Housekeeping: expired refresh tokens are useless; drop them hourly.
    this.sweeper = setInterval(
      () =>
        void this.repo
          .deleteExpiredRefreshTokens()
          .catch((err: Error) => this.log.warn({ err: { message: err.message } }, 'refresh token sweep failed')),
      3_600_000,
    );
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Creates a user, their first workspace (as owner) and a session. Used by the API and the CLI. */
  async createUserWithWorkspace(input: {
    email: string;
    password: string;
    name: string;
    workspaceName: string;
  }): Promise<SessionResult> {
    const passwordHash = await hashPassword(input.password);
    return this.repo.transaction(async (tx) => {
      const user = await this.repo.insertUser(tx, { email: input.email, name: input.name, passwordHash });
      if (!user) throw new DomainError('conflict', 'An account with this email already exists');
      const workspace = await this.repo.insertWorkspace(tx, input.workspaceName);
      await this.repo.insertMembership(tx, workspace.id as WorkspaceId, user.id, 'owner');
      return this.issueSession(tx, user, { id: workspace.id, name: workspace.name, role: 'owner' });
    });
  }

  async register(input: { email: string; password: string; name: string; workspace_name: string }): Promise<SessionResult> {
    return this.createUserWithWorkspace({ ...input, workspaceName: input.workspace_name });
  }

  /**
   * Wrong email and wrong password answer the same 401 after the same work (a dummy hash is
   * verified for unknown emails). Failures count per account and per IP; at the limit, 429.
   */
  async login(input: { email: string; password: string }, ip: string): Promise<SessionResult> {
    await this.throttle.assertAllowed(input.email, ip);
    const user = await this.repo.userByEmail(input.email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), input.password);
    if (!user || !ok) {
      await this.throttle.recordFailure(input.email, ip);
      throw new DomainError('unauthenticated', 'Wrong email or password');
    }
    await this.throttle.recordSuccess(input.email);
    const [first] = await this.repo.workspacesOfUser(user.id);
    if (!first) throw new DomainError('forbidden', 'This account belongs to no workspace');
    return this.repo.transaction((tx) => this.issueSession(tx, user, first));
  }

  /**
   * Rotates a refresh token: the presented token is spent and a new one of the same family is
   * returned. Presenting a spent (or revoked) token again is treated as theft: the whole family
   * is revoked, which also ends the access tokens issued for it.
   */
  async refresh(refreshToken: string): Promise<SessionResult> {
    const tokenHash = hashRefreshToken(refreshToken);
    const outcome = await this.repo.transaction(async (tx) => {
      const spent = await this.repo.spendRefreshToken(tx, tokenHash);
      if (!spent) {
        const known = await this.repo.refreshTokenByHash(tokenHash, tx);
        if (known && (known.usedAt || known.revokedAt)) {
          await this.repo.revokeFamily(known.familyId, tx);
          return { reused: known.familyId } as const;
        }
        return { invalid: true } as const;
      }
      const workspaceId = spent.workspaceId as WorkspaceId;
      const [user, role, workspace] = [
        await this.repo.userById(spent.userId, tx),
        await this.repo.membership(workspaceId, spent.userId, tx),
        await this.repo.workspaceById(workspaceId, tx),
      ];
      if (!user || !role || !workspace) return { invalid: true } as const;
      return {
        session: await this.issueSession(tx, user, { id: workspace.id, name: workspace.name, role }, spent.familyId),
      } as const;
    });
    if ('reused' in outcome) {
      this.authenticator.invalidate();
      this.log.warn({ session: outcome.reused }, 'refresh token reused: session revoked');
      throw unauthenticated();
    }
    if ('invalid' in outcome) throw unauthenticated();
    return outcome.session;
  }

  /** Ends the caller's session (or the one the given refresh token belongs to, if it is theirs). */
  async logout(auth: AuthContext, refreshToken?: string): Promise<void> {
    const user = requireUser(auth);
    let familyId = user.sessionId;
    if (refreshToken) {
      const row = await this.repo.refreshTokenByHash(hashRefreshToken(refreshToken));
      if (row && row.userId === user.userId) familyId = row.familyId;
    }
    if (familyId) await this.repo.revokeFamily(familyId);
    this.authenticator.invalidate();
  }

  async me(auth: AuthContext) {
    const workspace = await this.repo.workspaceById(auth.workspaceId);
    if (!workspace) throw unauthenticated();
    const user = auth.userId ? await this.repo.userById(auth.userId) : undefined;
    return {
      kind: auth.kind,
      user: user ? toUserJson(user) : null,
      workspace: { id: workspace.id, name: workspace.name },
      role: auth.role,
      scopes: [...auth.scopes].sort(),
      api_key_id: auth.apiKeyId,
      workspaces: auth.userId ? await this.repo.workspacesOfUser(auth.userId) : [],
    };
  }

  /** Tokens for another workspace the user belongs to (a new session); 404 if not a member. */
  async switchWorkspace(auth: AuthContext, workspaceId: string): Promise<SessionResult> {
    const caller = requireUser(auth);
    const target = workspaceId as WorkspaceId;
    const [user, role, workspace] = [
      await this.repo.userById(caller.userId),
      await this.repo.membership(target, caller.userId),
      await this.repo.workspaceById(target),
    ];
    if (!user || !role || !workspace) throw new DomainError('not_found', 'Workspace not found');
    return this.repo.transaction((tx) => this.issueSession(tx, user, { id: workspace.id, name: workspace.name, role }));
  }

  private async issueSession(
    ex: Executor,
    user: UserRow,
    workspace: { id: string; name: string; role: Role },
    familyId: string = uuidv7(),
  ): Promise<SessionResult> {
    const refreshToken = `${REFRESH_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.repo.insertRefreshToken(ex, {
      familyId,
      userId: user.id,
      workspaceId: workspace.id as WorkspaceId,
      tokenHash: hashRefreshToken(refreshToken),
      expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000),
    });
    const accessToken = await this.tokens.sign({
      userId: user.id,
      workspaceId: workspace.id,
      role: workspace.role,
      sessionId: familyId,
    });
    return {
      user: toUserJson(user),
      workspace,
      token_type: 'Bearer',
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
      refresh_token: refreshToken,
      refresh_expires_in: REFRESH_TOKEN_TTL_SECONDS,
    };
  }
}
