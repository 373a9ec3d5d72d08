import { Injectable, SetMetadata, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Provider } from './verifiers';

/** A verified, stored inbound event as handed to an effect handler. */
export interface InboundEventForEffects {
  /** Our inbox row id. */
  id: string;
  provider: Provider;
  /** The provider's event id (Stripe `evt_…`, HubSpot eventId:objectId:occurredAt, …). */
  providerEventId: string;
  type: string;
  payload: unknown;
  receivedAt: Date;
  /** The webhook source (null for the seed's /webhooks/stripe route). */
  sourceId: string | null;
}

export interface InboundEffectContext {
  workspaceId: WorkspaceId;
  event: InboundEventForEffects;
  /**
   * A stable key for this event's effect (the same on every run of the job): hand it to
   * idempotent writes (e.g. a conversion's external id) so a repeat changes nothing.
   */
  idempotencyKey: string;
}

export interface InboundEffectResult {
  /** A short word for what happened, shown on the inbound event: `lead_converted`, `lead_not_found`, … */
  outcome: string;
}

/**
 * Acts on inbound events of one provider: Stripe payments → customer + conversion, HubSpot
 * contact changes → lead upsert, Zapier posts → lead create/merge (inbound/effects/). The
 * processing job runs `apply` through EffectsService.once keyed by the inbox row, so a
 * successful effect is not run again; `apply` must still be idempotent by its own key (a crash
 * between the writes and the effect record re-runs it). Throw to retry later with backoff;
 * throw `UnrecoverableError` (bullmq) to fail the event at once.
 */
export interface InboundEffectHandler {
  readonly provider: Provider;
  /** Event types this handler acts on; other types of the provider are stored and marked ignored. */
  handles(type: string): boolean;
  apply(ctx: InboundEffectContext): Promise<InboundEffectResult>;
}

const INBOUND_EFFECT_HANDLER = 'switchboard:inbound-effect-handler';

/** Marks a provider class as an InboundEffectHandler; the webhooks module discovers it. */
export const InboundEffectHandlerProvider = () => SetMetadata(INBOUND_EFFECT_HANDLER, true);

@Injectable()
export class InboundEffectsRegistry implements OnModuleInit {
  private readonly handlers: InboundEffectHandler[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as unknown;
      if (!metatype || typeof metatype !== 'function' || !wrapper.instance) continue;
      if (Reflect.getMetadata(INBOUND_EFFECT_HANDLER, metatype) === true) this.register(wrapper.instance as InboundEffectHandler);
    }
  }

  register(handler: InboundEffectHandler): void {
    if (!this.handlers.includes(handler)) this.handlers.push(handler);
  }

  find(provider: Provider, type: string): InboundEffectHandler | undefined {
    return this.handlers.find((h) => h.provider === provider && h.handles(type));
  }

  providers(): Provider[] {
    return [...new Set(this.handlers.map((h) => h.provider))];
  }
}
