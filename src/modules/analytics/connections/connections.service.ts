import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { WorkspaceId } from '../../../auth/auth-context';
import { DomainError, notFound } from '../../../common/errors/domain-error';
import { decodeCursor, toPage, type Page } from '../../../common/http/pagination';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import { ROOT_LOGGER } from '../../../observability/root-logger';
import type { ConnectionView, CreateConnectionInput, PatchConnectionInput, RunView } from '../analytics.schemas';
import { ProviderRegistry } from '../providers/provider-registry';
import { AdMetricsRepository } from '../sync/ad-metrics.repository';
import { SyncScheduler, scheduleProblem } from '../sync/sync-scheduler';
import { SyncRepository, type SyncRunRow } from '../sync/sync.repository';
import { ConnectionsRepository, type ConnectionRow } from './connections.repository';
import { CredentialsVault } from './credentials-vault';

const PROVIDER_LABEL = { ga4: 'GA4', meta_ads: 'Meta Ads', linkedin_ads: 'LinkedIn Ads' } as const;
const idCursor = z.object({ id: z.uuid() });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function runView(r: SyncRunRow): RunView {
  return {
    id: r.id,
    connection_id: r.connectionId,
    trigger: r.trigger,
    status: r.status,
    from: r.rangeFrom,
    to: r.rangeTo,
    backfill: r.backfill,
    rows_upserted: r.rowsUpserted,
    rows_deleted: r.rowsDeleted,
    requests: r.requests,
    pages: r.pages,
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
    duration_ms: r.durationMs,
    error: r.error,
    resume_at: iso(r.resumeAt),
    created_at: r.createdAt.toISOString(),
  };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}

/**
 * Analytics connections: one provider account per row, credentials sealed at rest and never
 * returned, a periodic sync on the job engine per connection, manual syncs and their runs.
 */
@Injectable()
export class ConnectionsService {
  private readonly log: Logger;

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly runs: SyncRepository,
    private readonly metrics: AdMetricsRepository,
    private readonly vault: CredentialsVault,
    private readonly providers: ProviderRegistry,
    private readonly scheduler: SyncScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'analytics' });
  }

  view(row: ConnectionRow): ConnectionView {
    let refreshable = false;
    try {
      const c = this.vault.open(row.id, row.credentialsCiphertext);
      refreshable =
        row.provider === 'meta_ads' ? !!(c.client_id && c.client_secret) : !!(c.refresh_token && c.client_id && c.client_secret);
    } catch {
      refreshable = false; // sealed with a key no longer configured: shown as not refreshable
    }
    return {
      id: row.id,
      provider: row.provider,
      account_id: row.accountId,
      name: row.name,
      schedule: row.schedule,
      enabled: row.enabled,
      currency: row.currency,
      time_zone: row.timeZone,
      settings: (row.settings ?? {}) as Record<string, unknown>,
      credentials: { token_expires_at: iso(row.tokenExpiresAt), refreshable },
      synced_through: row.syncedThrough,
      last_sync_at: iso(row.lastSyncAt),
      last_sync_status: row.lastSyncStatus,
      last_error: row.lastError,
      syncing: !!row.leaseId && !!row.leaseExpiresAt && row.leaseExpiresAt.getTime() > Date.now(),
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }

  private checkSchedule(schedule: string): void {
    const problem = scheduleProblem(schedule, this.scheduler.minIntervalS);
    if (problem) throw new DomainError('validation_failed', 'Invalid schedule', [{ path: 'schedule', message: problem }]);
  }

  async create(ws: WorkspaceId, input: CreateConnectionInput): Promise<ConnectionView> {
    let accountId: string;
    try {
      accountId = this.providers.get(input.provider).normalizeAccountId(input.account_id);
    } catch (err) {
      throw new DomainError('validation_failed', 'Invalid account id', [{ path: 'account_id', message: (err as Error).message }]);
    }
    const schedule = input.schedule ?? this.config.ANALYTICS_SYNC_SCHEDULE;
    this.checkSchedule(schedule);
    const id = uuidv7();
    const sealed = this.vault.seal(id, input.credentials);
    let row: ConnectionRow;
    try {
      row = await this.repo.insert(ws, {
        id,
        provider: input.provider,
        accountId,
        name: input.name ?? `${PROVIDER_LABEL[input.provider]} ${accountId}`,
        credentialsCiphertext: sealed.ciphertext,
        credentialsKeyId: sealed.keyId,
        tokenExpiresAt: input.credentials.expires_at ? new Date(input.credentials.expires_at) : null,
        schedule,
        currency: input.currency ?? null,
        enabled: input.enabled ?? true,
        settings: input.settings ?? {},
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('conflict', 'This account is already connected in this workspace');
      throw err;
    }
    if (row.enabled) {
      try {
        await this.scheduler.schedule(ws, row.id, row.schedule);
      } catch (err) {
        // Without its schedule the connection would silently never sync: undo and say so.
        await this.repo.delete(ws, row.id);
        this.log.error({ err: { message: (err as Error).message } }, 'scheduling an analytics sync failed');
        throw new DomainError('service_unavailable', 'The job queue is unavailable; retry shortly', undefined, {
          'retry-after': '5',
        });
      }
    }
    return this.view(row);
  }

  async list(ws: WorkspaceId, limit: number, cursor?: string): Promise<Page<ConnectionView>> {
    const after = decodeCursor(cursor, idCursor);
    const rows = await this.repo.list(ws, limit + 1, after?.id);
    return toPage(
      rows,
      limit,
      (r) => this.view(r),
      (r) => ({ id: r.id }),
    );
  }

  async get(ws: WorkspaceId, id: string): Promise<ConnectionView> {
    const row = await this.repo.get(ws, id);
    if (!row) throw notFound('Connection');
    return this.view(row);
  }

  async update(ws: WorkspaceId, id: string, patch: PatchConnectionInput): Promise<ConnectionView> {
    const before = await this.repo.get(ws, id);
    if (!before) throw notFound('Connection');
    if (patch.schedule !== undefined) this.checkSchedule(patch.schedule);
    const sealed = patch.credentials ? this.vault.seal(id, patch.credentials) : undefined;
    const row = await this.repo.update(ws, id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.schedule !== undefined ? { schedule: patch.schedule } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      ...(patch.currency !== undefined ? { currency: patch.currency } : {}),
      ...(patch.settings !== undefined ? { settings: patch.settings } : {}),
      ...(sealed
        ? {
            credentialsCiphertext: sealed.ciphertext,
            credentialsKeyId: sealed.keyId,
            tokenExpiresAt: patch.credentials?.expires_at ? new Date(patch.credentials.expires_at) : null,
          }
        : {}),
    });
    if (!row) throw notFound('Connection');
    if (row.enabled !== before.enabled || row.schedule !== before.schedule) {
      try {
        if (row.enabled) await this.scheduler.schedule(ws, row.id, row.schedule);
        else await this.scheduler.unschedule(row.id);
      } catch (err) {
        await this.repo.update(ws, id, { enabled: before.enabled, schedule: before.schedule });
        this.log.error({ err: { message: (err as Error).message } }, 'rescheduling an analytics sync failed');
        throw new DomainError('service_unavailable', 'The job queue is unavailable; retry shortly', undefined, {
          'retry-after': '5',
        });
      }
    }
    return this.view(row);
  }

  async remove(ws: WorkspaceId, id: string, purgeMetrics: boolean): Promise<void> {
    const row = await this.repo.get(ws, id);
    if (!row) throw notFound('Connection');
    await this.scheduler.unschedule(id);
    await this.repo.delete(ws, id);
    if (purgeMetrics) await this.metrics.purgeAccount(ws, { provider: row.provider, accountId: row.accountId });
  }

  /** Records a queued run and enqueues it; 409 while a sync of the connection is running. */
  async requestSync(ws: WorkspaceId, id: string, range?: { from: string; to: string }): Promise<RunView> {
    const row = await this.repo.get(ws, id);
    if (!row) throw notFound('Connection');
    if (await this.repo.isLeased(ws, id))
      throw new DomainError('conflict', 'A sync of this connection is running; retry when it has finished');
    const run = await this.runs.createRun(ws, {
      connectionId: id,
      trigger: 'manual',
      status: 'queued',
      rangeFrom: range?.from ?? null,
      rangeTo: range?.to ?? null,
      backfill: !!range,
    });
    try {
      await this.scheduler.enqueue(ws, id, run.id, range);
    } catch (err) {
      await this.runs.finishRun(ws, run.id, { status: 'failed', error: 'the job queue was unavailable' });
      this.log.error({ err: { message: (err as Error).message } }, 'enqueueing an analytics sync failed');
      throw new DomainError('service_unavailable', 'The job queue is unavailable; retry shortly', undefined, {
        'retry-after': '5',
      });
    }
    return runView(run);
  }

  async listRuns(ws: WorkspaceId, id: string, limit: number, cursor?: string): Promise<Page<RunView>> {
    if (!(await this.repo.get(ws, id))) throw notFound('Connection');
    const after = decodeCursor(cursor, idCursor);
    const rows = await this.runs.listRuns(ws, id, limit + 1, after?.id);
    return toPage(rows, limit, runView, (r) => ({ id: r.id }));
  }
}
