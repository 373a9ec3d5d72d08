import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { WorkspaceId } from '../../../auth/auth-context';
import { DomainError, notFound } from '../../../common/errors/domain-error';
import { decodeCursor, toPage, type PaginationQuery } from '../../../common/http/pagination';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import { generateEndpointSecret } from '../outbound/signing';
import { WebhookSecretVault, type StoredSecret } from '../secret-vault';
import { WEBHOOK_CLOCK, WEBHOOK_VAULT, type WebhookClock } from '../webhooks.tokens';
import type { Provider, SourceSettings } from './verifiers';
import { SourcesRepository, type SourceRow } from './sources.repository';
import type { sourceSettingsSchema } from './sources.schemas';

type SettingsJson = z.infer<typeof sourceSettingsSchema>;

export interface CreateSourceInput {
  provider: Provider;
  name: string;
  secret?: string;
  settings?: SettingsJson;
  enabled?: boolean;
}
export interface UpdateSourceInput {
  name?: string;
  enabled?: boolean;
  secret?: string;
  settings?: SettingsJson;
}

/** What the ingest route needs about a source, cached briefly. */
export interface IngestSource {
  id: string;
  workspaceId: WorkspaceId;
  provider: Provider;
  enabled: boolean;
  settings: SourceSettings;
  secrets: readonly StoredSecret[];
}

const cursorSchema = z.object({ id: z.uuid() });
const INGEST_CACHE_MS = 5_000;

export function toVerifierSettings(s: SettingsJson): SourceSettings {
  return {
    hmac: s.hmac
      ? {
          header: s.hmac.header,
          algorithm: s.hmac.algorithm,
          encoding: s.hmac.encoding,
          prefix: s.hmac.prefix,
          eventIdHeader: s.hmac.event_id_header,
        }
      : undefined,
    hubspotAcceptLegacy: s.accept_legacy_signatures,
    apiKeyHeader: s.api_key_header,
  };
}

function generatedSecret(provider: Provider): string {
  if (provider === 'standard') return generateEndpointSecret();
  if (provider === 'zapier') return `zk_${randomBytes(24).toString('base64url')}`;
  return randomBytes(32).toString('hex');
}

const hint = (secret: string) => `…${secret.slice(-4)}`;

@Injectable()
export class SourcesService {
  private readonly ingestCache = new Map<string, { at: number; source: IngestSource | null }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly repo: SourcesRepository,
    @Inject(WEBHOOK_VAULT) private readonly vault: WebhookSecretVault,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WEBHOOK_CLOCK) private readonly clock: WebhookClock,
  ) {}

  sourceUrl(id: string): string {
    const base = (this.config.PUBLIC_URL ?? `http://localhost:${this.config.PORT}`).replace(/\/+$/, '');
    return `${base}/api/v1/webhooks/in/${id}`;
  }

  toJson(row: SourceRow) {
    const now = this.clock.now();
    const secrets = this.vault.open(row.id, row.secretsSealed).filter((s) => !s.expires_at || Date.parse(s.expires_at) > now);
    return {
      id: row.id,
      provider: row.provider,
      name: row.name,
      url: this.sourceUrl(row.id),
      enabled: row.enabled,
      settings: row.settings as SettingsJson,
      secrets: secrets.map((s) => ({ hint: hint(s.secret), created_at: s.created_at, expires_at: s.expires_at })),
      last_received_at: row.lastReceivedAt?.toISOString() ?? null,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }

  async create(workspaceId: WorkspaceId, input: CreateSourceInput) {
    const id = uuidv7();
    const generated = input.secret ? undefined : generatedSecret(input.provider);
    const secret = input.secret ?? generated!;
    const row = await this.repo.insert(workspaceId, {
      id,
      provider: input.provider,
      name: input.name,
      enabled: input.enabled ?? true,
      settings: input.settings ?? {},
      secretsSealed: this.vault.seal(id, WebhookSecretVault.fresh([secret], this.clock.now())),
    });
    return { ...this.toJson(row), ...(generated ? { secret: generated } : {}) };
  }

  async list(workspaceId: WorkspaceId, q: PaginationQuery) {
    const cursor = decodeCursor(q.cursor, cursorSchema);
    const rows = await this.repo.list(workspaceId, q.limit, cursor?.id);
    return toPage(
      rows,
      q.limit,
      (r) => this.toJson(r),
      (r) => ({ id: r.id }),
    );
  }

  async get(workspaceId: WorkspaceId, id: string) {
    const row = await this.repo.find(workspaceId, id);
    if (!row) throw notFound('Webhook source');
    return this.toJson(row);
  }

  async update(workspaceId: WorkspaceId, id: string, input: UpdateSourceInput) {
    const row = await this.repo.find(workspaceId, id);
    if (!row) throw notFound('Webhook source');
    if (input.settings) {
      if (row.provider === 'hmac' && !input.settings.hmac)
        throw new DomainError('validation_failed', 'An hmac source needs settings.hmac', [
          { path: 'settings.hmac', message: 'Required for an hmac source' },
        ]);
      if (row.provider !== 'hmac' && input.settings.hmac)
        throw new DomainError('validation_failed', 'settings.hmac is only for hmac sources', [
          { path: 'settings.hmac', message: 'Only for hmac sources' },
        ]);
    }
    const changes: Partial<SourceRow> = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    if (input.settings !== undefined) changes.settings = input.settings;
    if (input.secret !== undefined) {
      const rotated = WebhookSecretVault.rotate(this.vault.open(row.id, row.secretsSealed), input.secret, this.clock.now());
      changes.secretsSealed = this.vault.seal(row.id, rotated);
    }
    const updated = await this.repo.update(workspaceId, id, changes);
    if (!updated) throw notFound('Webhook source');
    this.ingestCache.delete(id);
    return this.toJson(updated);
  }

  async delete(workspaceId: WorkspaceId, id: string): Promise<void> {
    if (!(await this.repo.delete(workspaceId, id))) throw notFound('Webhook source');
    this.ingestCache.delete(id);
  }

  /** The source behind an ingest URL (null when unknown), cached for a few seconds. */
  async resolveForIngest(id: string): Promise<IngestSource | null> {
    const now = Date.now();
    const hit = this.ingestCache.get(id);
    if (hit && now - hit.at < INGEST_CACHE_MS) return hit.source;
    const row = await this.repo.findForIngest(id);
    const source: IngestSource | null = row
      ? {
          id: row.id,
          workspaceId: row.workspaceId as WorkspaceId,
          provider: row.provider,
          enabled: row.enabled,
          settings: toVerifierSettings(row.settings as SettingsJson),
          secrets: this.vault.open(row.id, row.secretsSealed),
        }
      : null;
    if (this.ingestCache.size > 10_000) this.ingestCache.clear();
    this.ingestCache.set(id, { at: now, source });
    return source;
  }

  /** Updates last_received_at at most once a minute per source and process (off the hot path). */
  touchReceived(source: IngestSource): void {
    const now = Date.now();
    if (now - (this.touched.get(source.id) ?? 0) < 60_000) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(source.id, now);
    void this.repo.touchReceived(source.workspaceId, source.id).catch(() => undefined);
  }
}
