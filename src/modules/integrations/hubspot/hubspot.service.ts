import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { WorkspaceId } from '../../../auth/auth-context';
import { notFound } from '../../../common/errors/domain-error';
import { SecretBox } from '../../../common/crypto/encryption';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import { JobsService } from '../../../jobs/jobs.service';
import { ROOT_LOGGER } from '../../../observability/root-logger';
import { LeadsService } from '../../leads/leads.service';
import { HUBSPOT_BATCH_LIMIT, HubSpotClient, HubSpotError, leadToHubSpotProperties } from './hubspot.client';
import { hubspotFlushJob } from './hubspot.job-types';
import { HubSpotRepository, type ConnectionRecord } from './hubspot.repository';

/** Batches one flush job sends before handing over to a fresh job (keeps jobs short). */
const MAX_BATCHES_PER_RUN = 20;

export function toConnectionView(c: ConnectionRecord | undefined, pending = 0) {
  return {
    connected: !!c,
    enabled: c?.enabled ?? false,
    last_sync_at: c?.lastSyncAt?.toISOString() ?? null,
    last_error: c?.lastError ?? null,
    pending,
    created_at: c?.createdAt.toISOString() ?? null,
    updated_at: c?.updatedAt.toISOString() ?? null,
  };
}

/**
 * The HubSpot connector. Lead events mark the lead stale in `crm_pending` and start a flush;
 * the flush claims up to 100 stale leads (lease + SKIP LOCKED), upserts them by email with one
 * CRM v3 batch call, and removes the rows it synced. HubSpot's upsert is idempotent, so a flush
 * re-run after a crash only repeats an identical write. 429/5xx retry with backoff (Retry-After
 * honoured); a refused token stops the sync until the token is replaced.
 */
@Injectable()
export class HubSpotService {
  private readonly box: SecretBox;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    private readonly repo: HubSpotRepository,
    private readonly jobs: JobsService,
    private readonly leads: LeadsService,
  ) {
    this.box = new SecretBox(config.secrets.ENCRYPTION_KEY, config.ENCRYPTION_PREVIOUS_KEYS);
  }

  async status(ws: WorkspaceId) {
    return toConnectionView(await this.repo.connection(ws), await this.repo.pendingCount(ws));
  }

  /** Stores the private-app token sealed with AES-256-GCM (bound to the connection id). */
  async connect(ws: WorkspaceId, token: string, enabled = true) {
    const existing = await this.repo.connection(ws);
    const id = existing?.id ?? uuidv7();
    const ciphertext = this.box.encrypt(token, id);
    const row = await this.repo.saveConnection(ws, id, { ciphertext, keyId: this.box.currentKeyId }, enabled);
    if (enabled) await this.startFlush(ws);
    return toConnectionView(row, await this.repo.pendingCount(ws));
  }

  async setEnabled(ws: WorkspaceId, enabled: boolean) {
    const row = await this.repo.setEnabled(ws, enabled);
    if (!row) throw notFound('HubSpot connection');
    if (enabled) await this.startFlush(ws);
    return toConnectionView(row, await this.repo.pendingCount(ws));
  }

  async disconnect(ws: WorkspaceId): Promise<void> {
    if (!(await this.repo.deleteConnection(ws))) throw notFound('HubSpot connection');
  }

  /** Marks a lead for sync when the workspace has an enabled connection. */
  async leadChanged(ws: WorkspaceId, leadId: string, requestId: string | null): Promise<boolean> {
    const conn = await this.repo.connection(ws);
    if (!conn?.enabled) return false;
    if (!(await this.repo.enqueueLead(ws, leadId))) return false;
    await this.startFlush(ws, requestId);
    return true;
  }

  /** One flush per workspace and second: events arriving together share it (job-id dedupe). */
  async startFlush(ws: WorkspaceId, requestId: string | null = null, delayMs = 500): Promise<void> {
    const bucket = Math.floor(Date.now() / 1000);
    await this.jobs.enqueue(
      hubspotFlushJob,
      {},
      { workspaceId: ws, jobId: `hubspot-flush-${ws}-${bucket}`, delay: delayMs, requestId },
    );
  }

  private token(conn: ConnectionRecord): string {
    return this.box.decrypt(conn.tokenCiphertext, conn.id);
  }

  /** The flush job body. Returns how many contacts were upserted. */
  async flush(ws: WorkspaceId): Promise<{ upserted: number; more: boolean }> {
    const conn = await this.repo.connection(ws);
    if (!conn?.enabled) return { upserted: 0, more: false };
    const client = new HubSpotClient({
      baseUrl: this.config.HUBSPOT_API_BASE_URL,
      token: this.token(conn),
      timeoutMs: this.config.HUBSPOT_TIMEOUT_MS,
    });
    let upserted = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const { leadIds, claimedAt } = await this.repo.claim(ws, HUBSPOT_BATCH_LIMIT);
      if (!leadIds.length) {
        return { upserted, more: false };
      }
      const leads = await this.leads.byIds(ws, leadIds);
      const contacts = leads.map((l) => ({
        email: l.email,
        properties: leadToHubSpotProperties({
          email: l.email,
          first_name: l.firstName,
          last_name: l.lastName,
          phone: l.phone,
          company: l.company,
          status: l.status,
        }),
      }));
      try {
        const res = await client.batchUpsertContacts(contacts);
        await this.repo.complete(ws, leadIds, claimedAt);
        upserted += res.results.length;
        await this.repo.recordResult(
          ws,
          !res.partial,
          res.partial ? `partial: ${JSON.stringify(res.errors ?? []).slice(0, 400)}` : null,
        );
        if (res.partial) this.log.warn({ workspace_id: ws, errors: res.errors?.length ?? 0 }, 'HubSpot refused some contacts');
      } catch (err) {
        if (!(err instanceof HubSpotError)) {
          await this.repo.release(ws, leadIds, 0);
          throw err;
        }
        await this.repo.recordResult(ws, false, err.message);
        if (err.retryable) {
          await this.repo.release(ws, leadIds, err.retryAfterMs ?? 0);
          throw err;
        }
        if (err.status === 401 || err.status === 403) {
          // The token is refused: keep the rows; the sync resumes when the token is replaced.
          await this.repo.release(ws, leadIds, 0);
          throw new UnrecoverableError(err.message);
        }
        // Another 4xx: this batch cannot succeed as sent; drop it (logged, visible as last_error).
        await this.repo.complete(ws, leadIds, claimedAt);
        this.log.error({ workspace_id: ws, status: err.status, leads: leadIds.length }, 'HubSpot rejected a batch; dropped');
      }
    }
    await this.startFlush(ws, null, 0);
    return { upserted, more: true };
  }
}
