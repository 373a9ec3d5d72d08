import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import { emit } from '../../../events/emit';
import { EffectInProgressError } from '../../../jobs/effects';
import { ROOT_LOGGER } from '../../../observability/root-logger';
import { WebhookSecretVault } from '../secret-vault';
import { ENDPOINT_RATE_LIMITER, OUTBOUND_DISPATCHER, WEBHOOK_CLOCK, WEBHOOK_VAULT, type WebhookClock } from '../webhooks.tokens';
import { WebhookMetrics } from '../webhooks.metrics';
import { DeliveriesRepository, type AttemptRecord, type MessageOutcome, type MessageRow } from './deliveries.repository';
import { DeliveryScheduler } from './delivery.scheduler';
import { EndpointsRepository, type EndpointRow } from './endpoints.repository';
import { sendWebhook } from './http-sender';
import { EndpointRateLimiter } from './rate-limiter';
import { endpointHealthAfter, nextStep, type NextStep } from './retry-schedule';
import { deliveryHeaders } from './signing';

export type AttemptTrigger = 'scheduled' | 'resend' | 'recover' | 'test';

export type AttemptResult =
  | { kind: 'skipped'; reason: 'not_due' | 'endpoint_disabled' | 'endpoint_missing' }
  | { kind: 'rate_limited'; retryInMs: number }
  | { kind: 'attempted'; attempt: AttemptRecord; next: NextStep; endpointDisabled: null | 'gone' | 'failing' };

/**
 * One delivery attempt of one message, end to end: take the attempt's lease (a duplicate job
 * finds it taken and stops), sign with every active secret, POST through the SSRF-guarded
 * dispatcher, log the attempt and the message's new state in one statement (committed without
 * waiting for the WAL flush), update the endpoint's health, and schedule the next attempt on the
 * retry schedule.
 *
 * The lease is the idempotent-effect record of the attempt, kept on the message row itself
 * (kind = attempt n, subject = message id), so the hot path costs two round trips; the
 * `webhook-id` header (the message id, stable across attempts) lets receivers drop a repeat
 * sent after a crash between the POST and the log write.
 */
@Injectable()
export class DeliveryService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly endpoints: EndpointsRepository,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: WebhookMetrics,
    @Inject(WEBHOOK_CLOCK) private readonly clock: WebhookClock,
    @Inject(OUTBOUND_DISPATCHER) private readonly dispatcher: Dispatcher,
    @Inject(DRIZZLE) private readonly db: Db,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ENDPOINT_RATE_LIMITER) private readonly rateLimiter: EndpointRateLimiter,
    @Inject(WEBHOOK_VAULT) private readonly vault: WebhookSecretVault,
    @Optional() @Inject(ROOT_LOGGER) private readonly log?: Logger,
  ) {}

  async attempt(workspaceId: WorkspaceId, messageId: string, attemptNo: number, trigger: AttemptTrigger): Promise<AttemptResult> {
    const leaseMs = this.config.OUTBOUND_TIMEOUT_MS + 15_000;
    const claimed = await this.deliveries.claimAttempt(workspaceId, messageId, attemptNo, leaseMs);
    if (!claimed) {
      const state = await this.deliveries.claimState(workspaceId, messageId, attemptNo);
      // Another run of this attempt holds the lease (a duplicate job, or a worker that died
      // mid-send): come back when it lapses, without spending one of the job's attempts.
      if ('leasedUntil' in state)
        throw new EffectInProgressError('webhooks.attempt', `${messageId}-${attemptNo}`, state.leasedUntil.getTime() + 50);
      return { kind: 'skipped', reason: 'not_due' };
    }
    const { message, endpoint } = claimed;
    if (!endpoint.enabled) {
      await this.deliveries.cancel(workspaceId, message.id, `endpoint disabled (${endpoint.disabledReason ?? 'manual'})`);
      return { kind: 'skipped', reason: 'endpoint_disabled' };
    }
    const wait = await this.rateLimiter.acquire(endpoint.id, endpoint.rateLimitPerSecond);
    if (wait > 0) {
      const at = new Date(this.clock.now() + wait);
      await this.deliveries.releaseClaim(workspaceId, message.id, attemptNo === 1 ? 'pending' : 'retrying', at);
      await this.scheduler.scheduleAttempt(workspaceId, message.id, attemptNo, wait, trigger, true);
      return { kind: 'rate_limited', retryInMs: wait };
    }
    return this.send(workspaceId, message, endpoint, attemptNo, trigger);
  }

  private async send(
    workspaceId: WorkspaceId,
    message: MessageRow,
    endpoint: EndpointRow,
    attemptNo: number,
    trigger: AttemptTrigger,
  ): Promise<AttemptResult> {
    const now = this.clock.now();
    const secrets = WebhookSecretVault.active(this.vault.open(endpoint.id, endpoint.secretsSealed), now);
    const headers = deliveryHeaders(secrets, message.id, Math.floor(now / 1000), message.body);
    const res = await sendWebhook(
      this.dispatcher,
      { url: endpoint.url, headers, body: message.body, timeoutMs: this.config.OUTBOUND_TIMEOUT_MS },
      () => this.clock.now(),
    );
    const result = { status: res.status, retryAfter: res.headers['retry-after'] ?? null };
    const cycleAttempt = attemptNo - message.cycleOffset;
    const next: NextStep = trigger === 'test' && !res.ok ? { kind: 'exhausted' } : nextStep(cycleAttempt, result, this.clock);
    const attempt: AttemptRecord = {
      attempt: attemptNo,
      trigger,
      url: endpoint.url,
      statusCode: res.status,
      ok: res.ok,
      errorCode: res.errorCode,
      errorMessage: res.errorMessage,
      responseHeaders: res.headers,
      responseBody: res.body,
      responseTruncated: res.bodyTruncated,
      durationMs: Math.max(0, Math.round(res.durationMs)),
    };
    const outcome: MessageOutcome = {
      status: next.kind === 'delivered' ? 'succeeded' : next.kind === 'retry' ? 'retrying' : 'exhausted',
      nextAttemptAt: next.kind === 'retry' ? new Date(next.at) : null,
      lastStatusCode: res.status,
      lastError: res.ok ? null : (res.errorMessage ?? `HTTP ${res.status}`),
      succeeded: next.kind === 'delivered',
    };
    const label = res.ok ? 'success' : res.errorCode === 'ssrf_blocked' ? 'blocked' : 'failure';
    this.metrics.outboundAttempts.labels(label).inc();
    this.metrics.outboundLatency.labels(label).observe(res.durationMs / 1000);

    // Endpoint health: a test message does not count (the endpoint may not be live yet).
    const health =
      trigger === 'test'
        ? null
        : endpointHealthAfter({ failingSince: endpoint.failingSince?.getTime() ?? null }, result, this.clock);
    let endpointDisabled: null | 'gone' | 'failing' = null;
    if (health?.disable) {
      endpointDisabled = health.reason;
      // The attempt is logged durably first, then the endpoint is disabled in its own
      // transaction. A crash between the two leaves the endpoint enabled with its failure state
      // unchanged, so the next failed attempt disables it (and emits the event) again.
      await this.deliveries.recordAttempt(workspaceId, message, attempt, outcome, { durable: true });
      await this.db.transaction(async (tx) => {
        const updated = await this.endpoints.update(
          workspaceId,
          endpoint.id,
          {
            enabled: false,
            disabledReason: health.reason,
            disabledAt: new Date(now),
            failingSince: health.failingSince ? new Date(health.failingSince) : null,
          },
          undefined,
          tx,
        );
        if (updated && endpoint.enabled) {
          await emit(tx, workspaceId, 'endpoint.disabled', {
            endpoint_id: endpoint.id,
            kind: endpoint.kind,
            reason: health.reason,
          });
        }
      });
      this.log?.warn({ endpoint_id: endpoint.id, reason: health.reason }, 'webhook endpoint disabled');
    } else {
      await this.deliveries.recordAttempt(workspaceId, message, attempt, outcome, { durable: false });
      const failingSince = health ? health.failingSince : undefined;
      const current = endpoint.failingSince?.getTime() ?? null;
      if (failingSince !== undefined && failingSince !== current) {
        await this.endpoints.update(workspaceId, endpoint.id, {
          failingSince: failingSince === null ? null : new Date(failingSince),
        });
      }
    }
    if (next.kind === 'retry' && !endpointDisabled) {
      await this.scheduler.scheduleAttempt(
        workspaceId,
        message.id,
        next.attempt + message.cycleOffset,
        next.delayMs,
        'scheduled',
      );
    }
    return { kind: 'attempted', attempt, next, endpointDisabled };
  }
}
