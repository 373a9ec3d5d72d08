import { Inject, Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { WorkspaceId } from '../../../auth/auth-context';
import { DomainError, notFound } from '../../../common/errors/domain-error';
import { decodeCursor, toPage, type PaginationQuery } from '../../../common/http/pagination';
import { WebhookSecretVault } from '../secret-vault';
import { OUTBOUND_POLICY, WEBHOOK_CLOCK, WEBHOOK_VAULT, type WebhookClock } from '../webhooks.tokens';
import { DeliveriesRepository, type AttemptRow, type MessageRow, type MessageStatus } from './deliveries.repository';
import { DeliveryScheduler } from './delivery.scheduler';
import { DeliveryService } from './delivery.service';
import { EndpointsRepository, type EndpointKind, type EndpointRow } from './endpoints.repository';
import { OUTBOUND_EVENT_TYPES, TEST_EVENT_TYPE, sampleBody } from './event-types';
import { generateEndpointSecret } from './signing';
import type { OutboundAddressPolicy } from './ssrf/address-policy';
import { validateOutboundUrl } from './ssrf/url-policy';

export interface CreateEndpointInput {
  url: string;
  description?: string;
  event_types: string[];
  enabled?: boolean;
  rate_limit_per_second?: number | null;
  secret?: string;
}
export interface UpdateEndpointInput {
  url?: string;
  description?: string;
  event_types?: string[];
  enabled?: boolean;
  rate_limit_per_second?: number | null;
}

const cursorSchema = z.object({ id: z.uuid() });
const hint = (secret: string) => `…${secret.slice(-4)}`;

export function toDeliveryJson(m: MessageRow) {
  return {
    id: m.id,
    endpoint_id: m.endpointId,
    event_id: m.eventId,
    event_type: m.eventType,
    status: m.status,
    attempts: m.attempts,
    next_attempt_at: m.nextAttemptAt?.toISOString() ?? null,
    last_status_code: m.lastStatusCode,
    last_error: m.lastError,
    succeeded_at: m.succeededAt?.toISOString() ?? null,
    created_at: m.createdAt.toISOString(),
  };
}

export function toAttemptJson(a: AttemptRow) {
  return {
    id: a.id,
    attempt: a.attempt,
    trigger: a.trigger,
    url: a.url,
    status_code: a.statusCode,
    ok: a.ok,
    error_code: a.errorCode,
    error_message: a.errorMessage,
    response_headers: a.responseHeaders as Record<string, string>,
    response_body: a.responseBody,
    response_truncated: a.responseTruncated,
    duration_ms: a.durationMs,
    created_at: a.createdAt.toISOString(),
  };
}

/**
 * Outbound endpoints (and, with kind `zapier`, the Zapier REST hooks that share the engine):
 * CRUD with an SSRF check of the URL at save time, whsec_ secrets shown once and rotated with a
 * 24 h overlap, test sends, the delivery log, resend and recover.
 */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly repo: EndpointsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly delivery: DeliveryService,
    private readonly scheduler: DeliveryScheduler,
    @Inject(WEBHOOK_VAULT) private readonly vault: WebhookSecretVault,
    @Inject(OUTBOUND_POLICY) private readonly policy: OutboundAddressPolicy,
    @Inject(WEBHOOK_CLOCK) private readonly clock: WebhookClock,
  ) {}

  toJson(row: EndpointRow) {
    const now = this.clock.now();
    const secrets = this.vault.open(row.id, row.secretsSealed).filter((s) => !s.expires_at || Date.parse(s.expires_at) > now);
    return {
      id: row.id,
      url: row.url,
      description: row.description,
      event_types: row.eventTypes,
      enabled: row.enabled,
      disabled_reason: (row.disabledReason as 'gone' | 'failing' | 'manual' | null) ?? null,
      disabled_at: row.disabledAt?.toISOString() ?? null,
      rate_limit_per_second: row.rateLimitPerSecond,
      failing_since: row.failingSince?.toISOString() ?? null,
      secrets: secrets.map((s) => ({ hint: hint(s.secret), created_at: s.created_at, expires_at: s.expires_at })),
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }

  async validateUrl(url: string, field = 'url'): Promise<string> {
    return (await validateOutboundUrl(url, this.policy, { field })).toString();
  }

  async create(workspaceId: WorkspaceId, input: CreateEndpointInput, kind: EndpointKind = 'webhook') {
    const url = await this.validateUrl(input.url, kind === 'zapier' ? 'target_url' : 'url');
    const id = uuidv7();
    const secret = input.secret ?? generateEndpointSecret();
    const row = await this.repo.insert(workspaceId, {
      id,
      kind,
      url,
      description: input.description ?? '',
      eventTypes: input.event_types,
      enabled: input.enabled ?? true,
      disabledReason: input.enabled === false ? 'manual' : null,
      disabledAt: input.enabled === false ? new Date(this.clock.now()) : null,
      rateLimitPerSecond: input.rate_limit_per_second ?? null,
      secretsSealed: this.vault.seal(id, WebhookSecretVault.fresh([secret], this.clock.now())),
    });
    return { ...this.toJson(row), secret };
  }

  async list(workspaceId: WorkspaceId, q: PaginationQuery, kind: EndpointKind = 'webhook') {
    const cursor = decodeCursor(q.cursor, cursorSchema);
    const rows = await this.repo.list(workspaceId, kind, q.limit, cursor?.id);
    return toPage(
      rows,
      q.limit,
      (r) => this.toJson(r),
      (r) => ({ id: r.id }),
    );
  }

  async find(workspaceId: WorkspaceId, id: string, kind: EndpointKind = 'webhook'): Promise<EndpointRow> {
    const row = await this.repo.find(workspaceId, id, kind);
    if (!row) throw notFound('Webhook endpoint');
    return row;
  }

  async get(workspaceId: WorkspaceId, id: string) {
    return this.toJson(await this.find(workspaceId, id));
  }

  async update(workspaceId: WorkspaceId, id: string, input: UpdateEndpointInput) {
    const current = await this.find(workspaceId, id);
    const changes: Partial<EndpointRow> = {};
    if (input.url !== undefined) changes.url = await this.validateUrl(input.url);
    if (input.description !== undefined) changes.description = input.description;
    if (input.event_types !== undefined) changes.eventTypes = input.event_types;
    if (input.rate_limit_per_second !== undefined) changes.rateLimitPerSecond = input.rate_limit_per_second;
    if (input.enabled !== undefined && input.enabled !== current.enabled) {
      changes.enabled = input.enabled;
      changes.disabledReason = input.enabled ? null : 'manual';
      changes.disabledAt = input.enabled ? null : new Date(this.clock.now());
      // Re-enabling starts a fresh health record: five more days before auto-disable.
      if (input.enabled) changes.failingSince = null;
    }
    const row = await this.repo.update(workspaceId, id, changes, 'webhook');
    if (!row) throw notFound('Webhook endpoint');
    return this.toJson(row);
  }

  async delete(workspaceId: WorkspaceId, id: string, kind: EndpointKind = 'webhook'): Promise<void> {
    if (!(await this.repo.delete(workspaceId, id, kind))) throw notFound(kind === 'zapier' ? 'Zapier hook' : 'Webhook endpoint');
  }

  /** New secret now; the previous one keeps signing (as a second signature) for 24 hours. */
  async rotateSecret(workspaceId: WorkspaceId, id: string, secret?: string) {
    const row = await this.find(workspaceId, id);
    const next = secret ?? generateEndpointSecret();
    const rotated = WebhookSecretVault.rotate(this.vault.open(row.id, row.secretsSealed), next, this.clock.now());
    await this.repo.update(workspaceId, id, { secretsSealed: this.vault.seal(row.id, rotated) }, 'webhook');
    const expiries = rotated.slice(1).map((s) => Date.parse(s.expires_at!));
    return {
      secret: next,
      previous_secret_expires_at: expiries.length ? new Date(Math.max(...expiries)).toISOString() : null,
    };
  }

  /** Sends one message now (a sample of `event_type`, or a ping) and answers with the attempt. */
  async test(workspaceId: WorkspaceId, id: string, eventType?: string) {
    const endpoint = await this.find(workspaceId, id);
    const type = eventType ?? TEST_EVENT_TYPE;
    if (type !== TEST_EVENT_TYPE && !OUTBOUND_EVENT_TYPES.includes(type)) {
      throw new DomainError('validation_failed', `Unknown event type "${type}"`, [
        { path: 'event_type', message: 'Not in the event catalogue' },
      ]);
    }
    if (!endpoint.enabled) throw new DomainError('conflict', 'The endpoint is disabled; enable it first');
    const messageId = uuidv7();
    const body = JSON.stringify(sampleBody(type, workspaceId, messageId, new Date(this.clock.now()).toISOString()));
    await this.deliveries.insertMessage(workspaceId, { id: messageId, endpointId: id, eventId: null, eventType: type, body });
    const result = await this.delivery.attempt(workspaceId, messageId, 1, 'test');
    const message = await this.deliveries.findMessage(workspaceId, id, messageId);
    const attempts = await this.deliveries.attemptsOf(workspaceId, messageId);
    void result;
    return { delivery: toDeliveryJson(message!), attempt: attempts.length ? toAttemptJson(attempts[attempts.length - 1]) : null };
  }

  async listDeliveries(
    workspaceId: WorkspaceId,
    id: string,
    q: PaginationQuery & { status?: MessageStatus; event_type?: string },
  ) {
    await this.find(workspaceId, id);
    const cursor = decodeCursor(q.cursor, cursorSchema);
    const rows = await this.deliveries.listMessages(
      workspaceId,
      id,
      { status: q.status, eventType: q.event_type },
      q.limit,
      cursor?.id,
    );
    return toPage(rows, q.limit, toDeliveryJson, (r) => ({ id: r.id }));
  }

  async getDelivery(workspaceId: WorkspaceId, id: string, deliveryId: string) {
    await this.find(workspaceId, id);
    const m = await this.deliveries.findMessage(workspaceId, id, deliveryId);
    if (!m) throw notFound('Delivery');
    const attempts = await this.deliveries.attemptsOf(workspaceId, deliveryId);
    return { ...toDeliveryJson(m), payload: JSON.parse(m.body) as unknown, attempt_log: attempts.map(toAttemptJson) };
  }

  /** Sends a message again with the same webhook-id, starting a new retry cycle. */
  async resend(workspaceId: WorkspaceId, id: string, deliveryId: string) {
    const endpoint = await this.find(workspaceId, id);
    if (!endpoint.enabled) throw new DomainError('conflict', 'The endpoint is disabled; enable it (or use recover) first');
    const m = await this.deliveries.findMessage(workspaceId, id, deliveryId);
    if (!m) throw notFound('Delivery');
    if (m.status === 'sending') throw new DomainError('conflict', 'An attempt of this delivery is in progress');
    const restarted = await this.deliveries.restart(workspaceId, id, { ids: [deliveryId], includeSucceeded: true });
    if (!restarted.length) throw new DomainError('conflict', 'An attempt of this delivery is in progress');
    await this.scheduler.scheduleMany(workspaceId, [
      { messageId: deliveryId, attempt: restarted[0].attempts + 1, trigger: 'resend' },
    ]);
    const updated = await this.deliveries.findMessage(workspaceId, id, deliveryId);
    return toDeliveryJson(updated!);
  }

  /**
   * Sends again every message since `since` that did not get through (exhausted, cancelled
   * because the endpoint was disabled, or still retrying), each with its own webhook-id and a
   * fresh retry cycle. A disabled endpoint is re-enabled: recovering is how it comes back.
   */
  async recover(workspaceId: WorkspaceId, id: string, since: Date) {
    const endpoint = await this.find(workspaceId, id);
    if (!endpoint.enabled) {
      await this.repo.update(
        workspaceId,
        id,
        { enabled: true, disabledReason: null, disabledAt: null, failingSince: null },
        'webhook',
      );
    }
    const restarted = await this.deliveries.restart(workspaceId, id, { since, includeSucceeded: false });
    for (let i = 0; i < restarted.length; i += 500) {
      await this.scheduler.scheduleMany(
        workspaceId,
        restarted.slice(i, i + 500).map((m) => ({ messageId: m.id, attempt: m.attempts + 1, trigger: 'recover' as const })),
      );
    }
    return { recovered: restarted.length };
  }
}
