import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Agent } from 'undici';
import { SecretBox } from '../../common/crypto/encryption';
import { REDIS } from '../../common/redis.module';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { JobsModule } from '../../jobs/jobs.module';
import { LeadsModule } from '../leads/leads.module';
import { HubspotEffects } from './inbound/effects/hubspot.effects';
import { StripeEffects } from './inbound/effects/stripe.effects';
import { ZapierEffects } from './inbound/effects/zapier.effects';
import { WEBHOOK_JOBS } from './job-definitions';
import { InboundController } from './inbound/inbound.controller';
import { InboundDispatcher } from './inbound/inbound.dispatcher';
import { InboundRelay } from './inbound/inbound.relay';
import { InboundEffectsRegistry } from './inbound/inbound-effects';
import { InboundJobs } from './inbound/inbound.jobs';
import { InboundRepository } from './inbound/inbound.repository';
import { InboundService } from './inbound/inbound.service';
import { registerRawBodyRoutes } from './inbound/raw-body';
import { SourcesController } from './inbound/sources.controller';
import { SourcesRepository } from './inbound/sources.repository';
import { SourcesService } from './inbound/sources.service';
import { DeliveriesRepository } from './outbound/deliveries.repository';
import { DeliveryScheduler } from './outbound/delivery.scheduler';
import { DeliveryService } from './outbound/delivery.service';
import { EndpointsController, EventTypesController } from './outbound/endpoints.controller';
import { EndpointsRepository } from './outbound/endpoints.repository';
import { EndpointsService } from './outbound/endpoints.service';
import { OutboundJobs } from './outbound/outbound.jobs';
import { EndpointRateLimiter } from './outbound/rate-limiter';
import { OutboundAddressPolicy } from './outbound/ssrf/address-policy';
import { createGuardedAgent } from './outbound/ssrf/guarded-agent';
import { WebhookSecretVault } from './secret-vault';
import { WebhookMetrics } from './webhooks.metrics';
import { WebhooksSweep } from './webhooks.sweep';
import {
  ENDPOINT_RATE_LIMITER,
  OUTBOUND_DISPATCHER,
  OUTBOUND_POLICY,
  WEBHOOK_CLOCK,
  WEBHOOK_VAULT,
  type WebhookClock,
} from './webhooks.tokens';

/**
 * Webhooks in and out: verified inbound sources with an inbox and processing jobs; signed,
 * retried, SSRF-guarded outbound endpoints fed by the event outbox. See docs/webhooks.md.
 */
@Module({
  imports: [DiscoveryModule, JobsModule.forFeature(WEBHOOK_JOBS), LeadsModule],
  controllers: [SourcesController, InboundController, EndpointsController, EventTypesController],
  providers: [
    { provide: WEBHOOK_CLOCK, useValue: { now: () => Date.now() } satisfies WebhookClock },
    {
      provide: WEBHOOK_VAULT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new WebhookSecretVault(new SecretBox(config.secrets.ENCRYPTION_KEY, config.ENCRYPTION_PREVIOUS_KEYS)),
    },
    {
      provide: OUTBOUND_POLICY,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new OutboundAddressPolicy(config.OUTBOUND_ALLOW_CIDRS),
    },
    {
      provide: OUTBOUND_DISPATCHER,
      inject: [OUTBOUND_POLICY, APP_CONFIG],
      useFactory: (policy: OutboundAddressPolicy, config: AppConfig) =>
        createGuardedAgent(policy, { headersTimeoutMs: config.OUTBOUND_TIMEOUT_MS, bodyTimeoutMs: config.OUTBOUND_TIMEOUT_MS }),
    },
    {
      provide: ENDPOINT_RATE_LIMITER,
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: Redis | null, config: AppConfig) => new EndpointRateLimiter(redis, config.REDIS_KEY_PREFIX),
    },
    WebhookMetrics,
    SourcesRepository,
    SourcesService,
    InboundRepository,
    InboundDispatcher,
    InboundRelay,
    InboundService,
    InboundEffectsRegistry,
    InboundJobs,
    StripeEffects,
    HubspotEffects,
    ZapierEffects,
    EndpointsRepository,
    DeliveriesRepository,
    DeliveryScheduler,
    DeliveryService,
    EndpointsService,
    OutboundJobs,
    WebhooksSweep,
  ],
  exports: [
    EndpointsService,
    InboundEffectsRegistry,
    InboundJobs,
    DeliveryService,
    OUTBOUND_DISPATCHER,
    OUTBOUND_POLICY,
    WEBHOOK_CLOCK,
  ],
})
export class WebhooksModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(OUTBOUND_DISPATCHER) private readonly agent: Agent,
  ) {}

  /** Raw bodies for the ingest routes only (see inbound/raw-body.ts). */
  onModuleInit(): void {
    const instance = this.adapterHost.httpAdapter?.getInstance?.<FastifyInstance | undefined>();
    if (instance && typeof instance.addContentTypeParser === 'function') registerRawBodyRoutes(instance);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}
