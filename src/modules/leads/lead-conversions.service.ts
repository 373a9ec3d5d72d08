import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { WorkspaceId } from '../../auth/auth-context';
import { DomainError } from '../../common/errors/domain-error';
import { zodIssuesToFieldErrors } from '../../common/errors/problem';
import { emit } from '../../events/emit';
import { LeadsRepository } from './leads.repository';
import { LeadsService, type UpsertResult } from './leads.service';
import { emailSchema, leadInputSchema } from './leads.schemas';

export const conversionInputSchema = z.object({
  /** The customer's address as the provider has it (normalised here). */
  email: z.string(),
  /** Integer minor units; negative for a refund. */
  amount_minor: z.number().int(),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/)
    .transform((c) => c.toUpperCase()),
  occurred_at: z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]),
  /** Where it came from, e.g. `stripe`. */
  source: z.string().min(1).max(64),
  /** The provider's id of the payment or refund (invoice, charge, refund id): counted once per source. */
  external_id: z.string().min(1).max(255),
  /** Defaults to `refund` for a negative amount, else `purchase`. */
  kind: z.enum(['purchase', 'refund']).optional(),
  /** Profile fields for a lead created by this conversion (e.g. the name on the checkout). */
  profile: z
    .object({ first_name: z.string().optional(), last_name: z.string().optional(), company: z.string().optional() })
    .optional(),
});
export type ConversionInput = z.input<typeof conversionInputSchema>;

export interface ConversionResult {
  /** The same (source, external_id) was recorded before: nothing changed. */
  duplicate: boolean;
  conversion_id: string | null;
  lead_id: string | null;
  /** The purchase created the lead (no lead had that address). */
  lead_created: boolean;
}

/**
 * Revenue attribution for other modules (the Stripe webhook handler):
 *
 * - a purchase marks the lead with that email a `customer`, stores a conversion (amount in minor
 *   units + currency) attributed to the lead's campaign, adds a `converted` timeline entry and
 *   emits `lead.converted` (sequences exit on it); a lead is created when none has the address;
 * - a refund stores a negative conversion (same campaign), and a `refunded` timeline entry;
 * - `(workspace, source, external_id)` is unique, so a redelivered provider event is a no-op.
 */
@Injectable()
export class LeadConversionsService {
  constructor(
    private readonly repo: LeadsRepository,
    private readonly leads: LeadsService,
  ) {}

  async recordConversion(ws: WorkspaceId, raw: ConversionInput): Promise<ConversionResult> {
    const parsed = conversionInputSchema.safeParse(raw);
    if (!parsed.success)
      throw new DomainError('validation_failed', 'Invalid conversion', zodIssuesToFieldErrors(parsed.error.issues));
    const input = parsed.data;
    const email = emailSchema.safeParse(input.email);
    if (!email.success)
      throw new DomainError('validation_failed', 'Invalid email', [{ path: 'email', message: 'Not a valid email address' }]);
    const kind = input.kind ?? (input.amount_minor < 0 ? 'refund' : 'purchase');

    let lead = await this.repo.findByEmail(ws, email.data);
    let leadCreated = false;
    if (!lead && kind === 'purchase') {
      const profile = leadInputSchema.safeParse({ email: email.data, source: input.source, ...(input.profile ?? {}) });
      const created = await this.leads.createOrMerge(
        ws,
        profile.success ? profile.data : { email: email.data, source: input.source },
        {
          via: 'api',
        },
      );
      lead = created.record;
      leadCreated = created.result === 'created';
    }

    return this.repo.transaction(async (tx) => {
      const locked = lead ? await this.repo.lockById(ws, lead.id, tx) : undefined;
      const conversionId = await this.repo.insertConversion(
        ws,
        {
          leadId: locked?.id ?? null,
          campaignId: locked?.campaignId ?? null,
          amountMinor: input.amount_minor,
          currency: input.currency,
          occurredAt: input.occurred_at,
          source: input.source,
          externalId: input.external_id,
        },
        tx,
      );
      if (!conversionId) return { duplicate: true, conversion_id: null, lead_id: locked?.id ?? null, lead_created: leadCreated };
      if (locked) {
        const data = {
          amount_minor: input.amount_minor,
          currency: input.currency,
          source: input.source,
          external_id: input.external_id,
        };
        if (kind === 'purchase') {
          await this.repo.markConverted(ws, locked.id, input.occurred_at, tx);
          await this.repo.addActivity(ws, locked.id, 'converted', data, tx);
          await emit(tx, ws, 'lead.converted', {
            lead_id: locked.id,
            campaign_id: locked.campaignId,
            value: { amount_minor: input.amount_minor, currency: input.currency },
          });
        } else {
          await this.repo.addActivity(ws, locked.id, 'refunded', data, tx);
        }
      }
      return { duplicate: false, conversion_id: conversionId, lead_id: locked?.id ?? null, lead_created: leadCreated };
    });
  }

  /**
   * Create-or-merge from a provider payload already mapped to lead fields (HubSpot contact
   * properties, a Zapier action). Same rules as `POST /leads`; `source` defaults to the provider.
   * Throws DomainError(validation_failed) listing the bad fields.
   */
  async upsertFromProvider(ws: WorkspaceId, fields: Record<string, unknown>, provider: string): Promise<UpsertResult> {
    const parsed = leadInputSchema.safeParse({ source: provider, ...fields });
    if (!parsed.success)
      throw new DomainError('validation_failed', 'Invalid lead fields', zodIssuesToFieldErrors(parsed.error.issues));
    const { record: _record, ...result } = await this.leads.createOrMerge(ws, parsed.data, { via: 'api' });
    return result;
  }
}
