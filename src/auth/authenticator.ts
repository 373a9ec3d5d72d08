import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { DomainError } from '../common/errors/domain-error';
import { AccessTokens } from './access-tokens';
import { ApiKeyUsage } from './api-keys/api-key-usage';
import { digestsEqual, hashApiKeySecret, looksLikeApiKey, parseApiKey } from './api-keys/api-key-format';
import { type AccessScope, type AuthContext, type WorkspaceId } from './auth-context';
import { CredentialsRepository, type MembershipCheck, type StoredApiKey } from './credentials.repository';
import { ROLE_SCOPES, isAccessScope } from './scopes';

/**
 * How long a credential lookup is reused in this process. Revocation, logout and membership
 * changes clear the cache of the process that made them at once; other processes see them
 * within this window.
 */
export const CREDENTIAL_CACHE_TTL_MS = 5_000;

/** One message for every credential failure: unknown, revoked, expired, malformed, bad signature. */
export const INVALID_CREDENTIALS = 'Missing, invalid, revoked or expired credentials';

export function unauthenticated(): DomainError {
  return new DomainError('unauthenticated', INVALID_CREDENTIALS, undefined, {
    'www-authenticate': 'Bearer realm="switchboard"',
  });
}

/** The credential a request presents: `Authorization: Bearer <token|key>` or `X-API-Key: <key>`. */
export function presentedCredential(request: FastifyRequest): string | undefined {
  const authz = request.headers.authorization;
  if (typeof authz === 'string' && authz.length) {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authz);
    if (!m) throw unauthenticated();
    return m[1];
  }
  const key = request.headers['x-api-key'];
  const value = Array.isArray(key) ? key[0] : key;
  return value?.trim() || undefined;
}

const DUMMY_HASH = 'f'.repeat(64);

/** Turns a presented credential into an AuthContext, or throws the one 401. */
@Injectable()
export class Authenticator {
  private readonly sessions = new LRUCache<string, MembershipCheck | false>({ max: 10_000, ttl: CREDENTIAL_CACHE_TTL_MS });
  private readonly keys = new LRUCache<string, StoredApiKey>({ max: 10_000, ttl: CREDENTIAL_CACHE_TTL_MS });
  private readonly salt: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tokens: AccessTokens,
    private readonly repo: CredentialsRepository,
    private readonly usage: ApiKeyUsage,
  ) {
    this.salt = config.secrets.API_KEY_SALT;
  }

  async authenticate(credential: string): Promise<AuthContext> {
    if (credential.length > 4096) throw unauthenticated();
    return looksLikeApiKey(credential) ? this.fromApiKey(credential) : this.fromAccessToken(credential);
  }

  /** Forget cached credential lookups (after revocation, logout or a membership change). */
  invalidate(): void {
    this.sessions.clear();
    this.keys.clear();
  }

  private async fromAccessToken(token: string): Promise<AuthContext> {
    const claims = await this.tokens.verify(token);
    if (!claims) throw unauthenticated();
    const cacheKey = `${claims.userId}:${claims.workspaceId}:${claims.sessionId}`;
    let check = this.sessions.get(cacheKey);
    if (check === undefined) {
      check = (await this.repo.membershipForSession(claims.userId, claims.workspaceId, claims.sessionId)) ?? false;
      this.sessions.set(cacheKey, check);
    }
    // A removed member or a revoked session loses access at once, not when the token expires.
    if (!check || check.sessionRevoked) throw unauthenticated();
    return {
      kind: 'user',
      workspaceId: claims.workspaceId as WorkspaceId,
      userId: claims.userId,
      apiKeyId: null,
      role: check.role,
      scopes: ROLE_SCOPES[check.role],
      keyKind: null,
      sessionId: claims.sessionId,
      allowedOrigins: [],
    };
  }

  private async fromApiKey(credential: string): Promise<AuthContext> {
    const parsed = parseApiKey(credential);
    if (!parsed) throw unauthenticated();
    let stored = this.keys.get(parsed.keyId);
    if (!stored) {
      stored = await this.repo.apiKeyByKeyId(parsed.keyId);
      if (stored) this.keys.set(parsed.keyId, stored);
    }
    // Hash and compare even for an unknown key id, so timing does not tell the cases apart.
    const presented = hashApiKeySecret(this.salt, parsed.secret);
    const matches = digestsEqual(presented, stored?.secretHash ?? DUMMY_HASH);
    if (
      !stored ||
      !matches ||
      stored.kind !== parsed.kind ||
      stored.revokedAt !== null ||
      (stored.expiresAt !== null && stored.expiresAt.getTime() <= Date.now())
    )
      throw unauthenticated();
    this.usage.record(stored.id);
    return {
      kind: 'api_key',
      workspaceId: stored.workspaceId as WorkspaceId,
      userId: null,
      apiKeyId: stored.id,
      role: null,
      scopes: new Set<AccessScope>(stored.scopes.filter(isAccessScope)),
      keyKind: stored.kind,
      sessionId: null,
      allowedOrigins: stored.allowedOrigins,
    };
  }
}
