import { Injectable, Module } from '@nestjs/common';
import {
  InboundEffectHandlerProvider,
  type InboundEffectContext,
  type InboundEffectHandler,
  type InboundEffectResult,
} from '../../src/modules/webhooks/inbound/inbound-effects';

/**
 * A stand-in effect handler for inbound `standard` events in tests: it records each application
 * and can be told to fail or to take its time.
 */
@Injectable()
@InboundEffectHandlerProvider()
export class RecordingStandardHandler implements InboundEffectHandler {
  readonly provider = 'standard' as const;
  applied: string[] = [];
  failNext = 0;
  delayMs = 0;

  handles(type: string): boolean {
    return type !== 'unhandled.type';
  }

  async apply(ctx: InboundEffectContext): Promise<InboundEffectResult> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('handler failed on purpose');
    }
    this.applied.push(ctx.event.providerEventId);
    return { outcome: 'recorded' };
  }
}

@Module({ providers: [RecordingStandardHandler] })
export class WebhookEffectsTestModule {}
