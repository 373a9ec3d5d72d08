import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../../observability/metrics';

/** Webhook counters on /metrics (registered on the app's registry). */
@Injectable()
export class WebhookMetrics {
  readonly inboundRejected: Counter<'provider' | 'reason'>;
  readonly inboundReceived: Counter<'provider' | 'result'>;
  readonly outboundAttempts: Counter<'result'>;
  readonly outboundLatency: Histogram<'result'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.inboundRejected = new Counter({
      name: 'webhook_inbound_rejected_total',
      help: 'Inbound webhook requests refused (bad or missing signature, stale timestamp, bad key, malformed body)',
      labelNames: ['provider', 'reason'] as const,
      registers,
    });
    this.inboundReceived = new Counter({
      name: 'webhook_inbound_events_total',
      help: 'Verified inbound webhook events by result (stored or duplicate)',
      labelNames: ['provider', 'result'] as const,
      registers,
    });
    this.outboundAttempts = new Counter({
      name: 'webhook_outbound_attempts_total',
      help: 'Outbound delivery attempts by result (success, failure, blocked)',
      labelNames: ['result'] as const,
      registers,
    });
    this.outboundLatency = new Histogram({
      name: 'webhook_outbound_attempt_duration_seconds',
      help: 'Duration of outbound delivery attempts',
      labelNames: ['result'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers,
    });
  }
}
