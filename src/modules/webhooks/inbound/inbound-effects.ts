import { Injectable, SetMetadata, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { DbExecutor } from '../../../events/emit';
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
   * The transaction the handler must do ALL its writes in (and nothing else: PGlite serves one
   * session). The inbox row is marked processed in it and the effect keys are recorded in it,
   * so the effect happens exactly once even when the job runs twice.
   */
  tx: DbExecutor;
  /**
   * Records an extra idempotency key in the same transaction (e.g. a Stripe object id + type):
   * true the first time, false when already recorded (then skip the write).
   */
  once(kind: string, subject: string): Promise<boolean>;
}

export interface InboundEffectResult {
  /** A short word for what happened, shown on the inbound event: `lead_converted`, `lead_not_found`, … */
  outcome: string;
}

/**
 * What the leads module (or any other) implements to act on inbound events: Stripe payments →
 * customer + conversion, HubSpot contact changes → lead upsert, Zapier posts → lead create/merge.
 * Throw to have the job retry later (with backoff; nothing is recorded); throw
 * `UnrecoverableError` (bullmq) to fail the event at once.
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
