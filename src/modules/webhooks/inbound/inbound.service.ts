import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { WorkspaceId } from '../../../auth/auth-context';
import { DomainError, notFound } from '../../../common/errors/domain-error';
import { decodeCursor, toPage, type PaginationQuery } from '../../../common/http/pagination';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import { ROOT_LOGGER } from '../../../observability/root-logger';
import { WebhookSecretVault } from '../secret-vault';
import { WEBHOOK_CLOCK, type WebhookClock } from '../webhooks.tokens';
import { WebhookMetrics } from '../webhooks.metrics';
import { InboundDispatcher } from './inbound.dispatcher';
import { InboundRelay } from './inbound.relay';
import { InboundRepository, type InboundEventRow, type InboundFilters } from './inbound.repository';
import { SourcesService, type IngestSource } from './sources.service';
import { WebhookVerificationError, verifyInbound, type InboundRequest, type Provider, type VerifiedEvent } from './verifiers';

/** The seed's single-workspace Stripe route stores its events under this source key. */
export const SEED_STRIPE_SOURCE_KEY = 'seed:stripe';

/** Request headers kept with an inbound event (signatures and ids; never a credential). */
const KEPT_HEADERS = [
  'content-type',
  'user-agent',
  'stripe-signature',
  'x-hubspot-signature',
  'x-hubspot-signature-v3',
  'x-hubspot-signature-version',
  'x-hubspot-request-timestamp',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'idempotency-key',
  'x-request-id',
];

export interface ReceiveResult {
  received: number;
  duplicates: number;
  event_ids: string[];
}

const cursorSchema = z.object({ id: z.uuid() });
const sourceIdSchema = z.uuid();

export function toInboundEventJson(row: InboundEventRow) {
  return {
    id: row.id,
    source_id: row.sourceId,
    provider: row.provider,
    provider_event_id: row.providerEventId,
    type: row.type,
    status: row.status,
    outcome: row.outcome,
    attempts: row.attempts,
    replay_count: row.replayCount,
    last_error: row.lastError,
    received_at: row.receivedAt.toISOString(),
    processed_at: row.processedAt?.toISOString() ?? null,
    headers: row.headers as Record<string, string>,
    payload: row.payload,
  };
}

@Injectable()
export class InboundService {
  private seedWorkspace: { at: number; id: WorkspaceId | null } | undefined;

  constructor(
    private readonly repo: InboundRepository,
    private readonly sources: SourcesService,
    private readonly dispatcher: InboundDispatcher,
    private readonly relay: InboundRelay,
    private readonly metrics: WebhookMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WEBHOOK_CLOCK) private readonly clock: WebhookClock,
    @Optional() @Inject(ROOT_LOGGER) private readonly log?: Logger,
  ) {}

  /** `POST /webhooks/in/:source_id`: verify on the raw bytes, store once, hand to the queue. */
  async receive(sourceId: string, req: InboundRequest): Promise<ReceiveResult> {
    const source = sourceIdSchema.safeParse(sourceId).success ? await this.sources.resolveForIngest(sourceId) : null;
    // Unknown and disabled sources look the same from outside.
    if (!source || !source.enabled) throw notFound('Webhook source');
    const events = this.verify(source.provider, req, WebhookSecretVault.active(source.secrets, this.clock.now()), source);
    const result = await this.store(source.workspaceId, source.provider, source.id, source.id, events, req);
    this.sources.touchReceived(source);
    return result;
  }

  /**
   * `POST /webhooks/stripe`: the seed's single-workspace route, verified with WEBHOOK_SECRET and
   * stored for DEFAULT_WORKSPACE_ID (or the only workspace).
   */
  async receiveSeedStripe(req: InboundRequest): Promise<ReceiveResult> {
    const events = this.verify('stripe', req, [this.config.secrets.WEBHOOK_SECRET], undefined);
    const workspaceId = await this.resolveSeedWorkspace();
    return this.store(workspaceId, 'stripe', null, SEED_STRIPE_SOURCE_KEY, events, req);
  }

  private verify(provider: Provider, req: InboundRequest, secrets: string[], source: IngestSource | undefined): VerifiedEvent[] {
    try {
      return verifyInbound(provider, req, { secrets, settings: source?.settings ?? {}, now: this.clock.now() });
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      this.metrics.inboundRejected.labels(provider, err.reason).inc();
      this.log?.warn({ provider, source_id: source?.id, reason: err.reason }, 'inbound webhook refused');
      if (err.reason === 'bad_api_key') throw new DomainError('unauthenticated', err.message);
      throw new DomainError('bad_request', `Webhook verification failed: ${err.message}`);
    }
  }

  private async store(
    workspaceId: WorkspaceId,
    provider: Provider,
    sourceId: string | null,
    sourceKey: string,
    events: VerifiedEvent[],
    req: InboundRequest,
  ): Promise<ReceiveResult> {
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v.slice(0, 1024);
    }
    if (req.contentType) headers['content-type'] = req.contentType;
    const rows = events.map((e) => ({
      id: uuidv7(),
      sourceId,
      sourceKey,
      provider,
      providerEventId: e.eventId.slice(0, 255),
      type: e.type.slice(0, 255),
      payload: e.payload as object,
      payloadJson: e.payloadJson,
      headers,
    }));
    let inserted: string[];
    try {
      inserted = await this.repo.insertNew(workspaceId, rows);
    } catch (err) {
      // Not stored = not acknowledged: a 5xx makes the provider deliver again later.
      this.log?.error({ err, provider, source_key: sourceKey }, 'storing an inbound webhook failed');
      throw new DomainError('service_unavailable', 'The event could not be stored; retry later', undefined, {
        'retry-after': '10',
      });
    }
    this.metrics.inboundReceived.labels(provider, 'stored').inc(inserted.length);
    this.metrics.inboundReceived.labels(provider, 'duplicate').inc(rows.length - inserted.length);
    // Durable now: the relay hands the rows to the queue (right away when it runs in this process).
    if (inserted.length) this.relay.poke();
    return { received: rows.length, duplicates: rows.length - inserted.length, event_ids: rows.map((r) => r.providerEventId) };
  }

  private async resolveSeedWorkspace(): Promise<WorkspaceId> {
    const now = Date.now();
    if (this.seedWorkspace && this.seedWorkspace.id && now - this.seedWorkspace.at < 30_000) return this.seedWorkspace.id;
    let id: string | null = null;
    if (this.config.DEFAULT_WORKSPACE_ID) {
      id = (await this.repo.workspaceExists(this.config.DEFAULT_WORKSPACE_ID)) ? this.config.DEFAULT_WORKSPACE_ID : null;
      if (!id)
        throw new DomainError('service_unavailable', 'DEFAULT_WORKSPACE_ID names no workspace', undefined, {
          'retry-after': '60',
        });
    } else {
      const first = await this.repo.firstWorkspaces();
      if (first.length !== 1)
        throw new DomainError(
          'service_unavailable',
          first.length === 0
            ? 'No workspace exists yet to receive this event'
            : 'Several workspaces exist: set DEFAULT_WORKSPACE_ID or use a webhook source URL',
          undefined,
          { 'retry-after': '60' },
        );
      id = first[0];
    }
    this.seedWorkspace = { at: now, id: id as WorkspaceId };
    return id as WorkspaceId;
  }

  async list(workspaceId: WorkspaceId, filters: InboundFilters, q: PaginationQuery) {
    const cursor = decodeCursor(q.cursor, cursorSchema);
    const rows = await this.repo.list(workspaceId, filters, q.limit, cursor?.id);
    return toPage(rows, q.limit, toInboundEventJson, (r) => ({ id: r.id }));
  }

  async get(workspaceId: WorkspaceId, id: string) {
    const row = await this.repo.find(workspaceId, id);
    if (!row) throw notFound('Inbound event');
    return toInboundEventJson(row);
  }

  /**
   * Processes a stored event again (e.g. one that failed, or arrived before its handler
   * existed). Effects already applied are not repeated: they are keyed by event.
   */
  async replay(workspaceId: WorkspaceId, id: string) {
    const row = await this.repo.markForReplay(workspaceId, id);
    if (!row) throw notFound('Inbound event');
    await this.dispatcher.dispatch([{ id: row.id, workspaceId, replayCount: row.replayCount }]);
    return toInboundEventJson(row);
  }
}
