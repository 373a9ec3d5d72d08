import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { DomainError, notFound } from '../../common/errors/domain-error';
import { decodeCursor, toPage, type PaginationQuery } from '../../common/http/pagination';
import { z } from 'zod';
import type { AuthContext, Scope, WorkspaceId } from '../auth-context';
import { Authenticator } from '../authenticator';
import { PUBLISHABLE_SCOPE } from '../scopes';
import { displayPrefix, generateApiKey, hashApiKeySecret } from './api-key-format';
import { ApiKeysRepository, type ApiKeyRow } from './api-keys.repository';

export interface CreateApiKeyInput {
  name: string;
  scopes: Scope[];
  expires_at?: string;
  allowed_origins?: string[];
}

export function toApiKeyJson(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    prefix: displayPrefix(row.kind, row.keyId),
    scopes: row.scopes,
    allowed_origins: row.allowedOrigins,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
  };
}

const cursorSchema = z.object({ id: z.uuid() });

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly repo: ApiKeysRepository,
    private readonly authenticator: Authenticator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates a key for the caller's workspace; a caller can only grant scopes it holds itself. */
  async create(auth: AuthContext, input: CreateApiKeyInput) {
    const missing = input.scopes.filter((s) => !auth.scopes.has(s));
    if (missing.length) throw new DomainError('forbidden', `You cannot grant scopes you do not hold: ${missing.join(', ')}`);
    return this.createForWorkspace(auth.workspaceId, input, auth.userId);
  }

  /** Also used by the CLI (`switchboard api-key create`), which acts as the operator. */
  async createForWorkspace(workspaceId: WorkspaceId, input: CreateApiKeyInput, createdBy: string | null) {
    const scopes = [...new Set(input.scopes)].sort();
    const publishable = scopes.includes(PUBLISHABLE_SCOPE);
    if (publishable && scopes.length > 1)
      throw new DomainError('validation_failed', 'leads:capture is for publishable keys and cannot be combined', [
        { path: 'scopes', message: 'leads:capture must be the only scope of a key' },
      ]);
    if (!publishable && input.allowed_origins?.length)
      throw new DomainError('validation_failed', 'allowed_origins is only for publishable (leads:capture) keys', [
        { path: 'allowed_origins', message: 'Only publishable keys carry allowed origins' },
      ]);
    let expiresAt: Date | null = null;
    if (input.expires_at) {
      expiresAt = new Date(input.expires_at);
      if (expiresAt.getTime() <= Date.now())
        throw new DomainError('validation_failed', 'expires_at must be in the future', [
          { path: 'expires_at', message: 'Must be in the future' },
        ]);
    }
    const kind = publishable ? 'publishable' : 'secret';
    const generated = generateApiKey(kind);
    const row = await this.repo.insert(workspaceId, {
      name: input.name,
      kind,
      keyId: generated.keyId,
      secretHash: hashApiKeySecret(this.config.secrets.API_KEY_SALT, generated.secret),
      scopes,
      allowedOrigins: [...new Set(input.allowed_origins ?? [])],
      createdBy,
      expiresAt,
    });
    return { ...toApiKeyJson(row), key: generated.key };
  }

  async list(workspaceId: WorkspaceId, page: PaginationQuery) {
    const after = decodeCursor(page.cursor, cursorSchema);
    const rows = await this.repo.listActive(workspaceId, page.limit, after?.id);
    return toPage(rows, page.limit, toApiKeyJson, (r) => ({ id: r.id }));
  }

  async get(workspaceId: WorkspaceId, id: string) {
    const row = await this.repo.findActive(workspaceId, id);
    if (!row) throw notFound('API key');
    return toApiKeyJson(row);
  }

  async revoke(workspaceId: WorkspaceId, id: string): Promise<void> {
    const row = await this.repo.revoke(workspaceId, id);
    if (!row) throw notFound('API key');
    this.authenticator.invalidate();
  }
}
