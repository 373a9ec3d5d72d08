import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { WorkspaceId } from '../../../../auth/auth-context';
import { LeadConversionsService } from '../../../leads/lead-conversions.service';
import { LeadsRepository } from '../../../leads/leads.repository';
import { LeadsService } from '../../../leads/leads.service';
import {
  InboundEffectHandlerProvider,
  type InboundEffectContext,
  type InboundEffectHandler,
  type InboundEffectResult,
} from '../inbound-effects';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

export const STRIPE_HANDLED_TYPES = [
  'checkout.session.completed',
  'invoice.paid',
  'customer.created',
  'charge.refunded',
] as const;

function splitName(name: string | undefined): { first_name?: string; last_name?: string } {
  if (!name) return {};
  const parts = name.trim().split(/\s+/);
  return parts.length > 1
    ? { first_name: parts.slice(0, -1).join(' '), last_name: parts[parts.length - 1] }
    : { first_name: parts[0] };
}

/**
 * Stripe → leads (the leads module's LeadConversionsService does the writes, idempotent by
 * (source, external id)):
 * - `checkout.session.completed`, `invoice.paid`: the lead with the customer's email (created if
 *   none) becomes a `customer`, a conversion with the amount in minor units + currency is
 *   attributed to its campaign, `lead.converted` is emitted (sequences exit on it);
 * - `customer.created`: the lead becomes a `customer` (created if none), no amount;
 * - `charge.refunded`: a negative conversion per refund.
 * Out of order is fine: whichever arrives first creates the lead; the others find it.
 */
@Injectable()
@InboundEffectHandlerProvider()
export class StripeEffects implements InboundEffectHandler {
  readonly provider = 'stripe' as const;

  constructor(
    private readonly conversions: LeadConversionsService,
    private readonly leads: LeadsService,
    private readonly leadsRepo: LeadsRepository,
  ) {}

  handles(type: string): boolean {
    return (STRIPE_HANDLED_TYPES as readonly string[]).includes(type);
  }

  async apply(ctx: InboundEffectContext): Promise<InboundEffectResult> {
    const event = ctx.event.payload as { created?: number; data?: { object?: Obj; previous_attributes?: Obj } };
    const object = event.data?.object;
    if (!object) throw new UnrecoverableError('Stripe event without data.object');
    const occurredAt = typeof event.created === 'number' ? new Date(event.created * 1000) : ctx.event.receivedAt;
    switch (ctx.event.type) {
      case 'checkout.session.completed': {
        const details = (object.customer_details ?? {}) as Obj;
        const email = str(details.email) ?? str(object.customer_email);
        const amount = int(object.amount_total);
        const currency = str(object.currency);
        if (!email) return { outcome: 'no_email' };
        if (amount === undefined || !currency) return this.markCustomer(ctx.workspaceId, email, str(details.name));
        return this.convert(ctx.workspaceId, {
          email,
          amount,
          currency,
          occurredAt,
          externalId: String(object.id),
          name: str(details.name),
        });
      }
      case 'invoice.paid': {
        const email = str(object.customer_email);
        const amount = int(object.amount_paid);
        const currency = str(object.currency);
        if (!email) return { outcome: 'no_email' };
        if (amount === undefined || !currency) return this.markCustomer(ctx.workspaceId, email, str(object.customer_name));
        return this.convert(ctx.workspaceId, {
          email,
          amount,
          currency,
          occurredAt,
          externalId: String(object.id),
          name: str(object.customer_name),
        });
      }
      case 'customer.created': {
        const email = str(object.email);
        if (!email) return { outcome: 'no_email' };
        return this.markCustomer(ctx.workspaceId, email, str(object.name));
      }
      case 'charge.refunded': {
        const billing = (object.billing_details ?? {}) as Obj;
        const email = str(billing.email) ?? str(object.receipt_email);
        const currency = str(object.currency);
        if (!email || !currency) return { outcome: 'no_email' };
        // One negative conversion per refund: the refunds list when Stripe includes it, else the
        // increase of amount_refunded (keyed by the new cumulative total).
        const refunds = ((object.refunds as { data?: Obj[] } | undefined)?.data ?? []).filter((r) => str(r.id) && int(r.amount));
        if (refunds.length) {
          let recorded = 0;
          for (const r of refunds) {
            const res = await this.conversions.recordConversion(ctx.workspaceId, {
              email,
              amount_minor: -int(r.amount)!,
              currency,
              occurred_at: typeof r.created === 'number' ? new Date(r.created * 1000) : occurredAt,
              source: 'stripe',
              external_id: String(r.id),
              kind: 'refund',
            });
            if (!res.duplicate) recorded += 1;
          }
          return { outcome: recorded ? 'refund_recorded' : 'refund_already_recorded' };
        }
        const total = int(object.amount_refunded) ?? 0;
        const before = int(event.data?.previous_attributes?.amount_refunded) ?? 0;
        if (total - before <= 0) return { outcome: 'nothing_refunded' };
        const res = await this.conversions.recordConversion(ctx.workspaceId, {
          email,
          amount_minor: -(total - before),
          currency,
          occurred_at: occurredAt,
          source: 'stripe',
          external_id: `${String(object.id)}:refunded:${total}`,
          kind: 'refund',
        });
        return { outcome: res.duplicate ? 'refund_already_recorded' : 'refund_recorded' };
      }
      default:
        return { outcome: 'ignored_type' };
    }
  }

  private async convert(
    ws: WorkspaceId,
    c: { email: string; amount: number; currency: string; occurredAt: Date; externalId: string; name?: string },
  ): Promise<InboundEffectResult> {
    const res = await this.conversions.recordConversion(ws, {
      email: c.email,
      amount_minor: c.amount,
      currency: c.currency,
      occurred_at: c.occurredAt,
      source: 'stripe',
      external_id: c.externalId,
      kind: 'purchase',
      profile: splitName(c.name),
    });
    if (res.duplicate) return { outcome: 'conversion_already_recorded' };
    return { outcome: res.lead_created ? 'lead_created_converted' : 'lead_converted' };
  }

  /** Status `customer` without an amount (customer.created, a free checkout). */
  private async markCustomer(ws: WorkspaceId, email: string, name?: string): Promise<InboundEffectResult> {
    let lead = await this.leadsRepo.findByEmail(ws, email);
    let created = false;
    if (!lead) {
      const res = await this.conversions.upsertFromProvider(ws, { email, ...splitName(name) }, 'stripe');
      created = res.result === 'created';
      lead = await this.leadsRepo.findByEmail(ws, email);
    }
    if (!lead) return { outcome: 'lead_not_found' };
    if (lead.status === 'customer') return { outcome: created ? 'lead_created_customer' : 'already_customer' };
    await this.leads.patch(ws, lead.id, { status: 'customer' });
    return { outcome: created ? 'lead_created_customer' : 'lead_customer' };
  }
}
