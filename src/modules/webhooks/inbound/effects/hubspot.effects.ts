import { Inject, Injectable } from '@nestjs/common';
import { and, eq, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../../auth/auth-context';
import type { Db } from '../../../../db/database';
import { DRIZZLE } from '../../../../db/database.module';
import { leads } from '../../../../db/schema/leads';
import { LeadConversionsService } from '../../../leads/lead-conversions.service';
import { LeadsService } from '../../../leads/leads.service';
import {
  InboundEffectHandlerProvider,
  type InboundEffectContext,
  type InboundEffectHandler,
  type InboundEffectResult,
} from '../inbound-effects';

/** HubSpot contact properties → lead fields (HubSpot sends every value as a string). */
export const HUBSPOT_PROPERTY_MAP: Record<string, 'first_name' | 'last_name' | 'company' | 'phone'> = {
  firstname: 'first_name',
  lastname: 'last_name',
  company: 'company',
  phone: 'phone',
  mobilephone: 'phone',
};

/** Custom field on the lead that links it to its HubSpot contact. */
export const HUBSPOT_CONTACT_FIELD = 'hubspot_contact_id';

/** A string or number as a string; anything else is absent. */
const scalar = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

/** Thrown when a property change arrives before the contact's email: the job retries with backoff. */
export class HubspotContactNotYetKnown extends Error {}

/**
 * HubSpot contact webhooks → leads. Notifications carry the contact id and (for property
 * changes) one property, never the whole contact, so:
 * - `contact.propertyChange` of `email` creates or merges the lead (source `hubspot`) and links
 *   it to the contact id (custom field `hubspot_contact_id`);
 * - changes of `firstname`, `lastname`, `company`, `phone`/`mobilephone` update the linked lead;
 *   one that arrives before the email (order is not guaranteed) is retried with backoff until
 *   the email has linked the lead, so the state converges;
 * - `contact.creation` is recorded; the lead appears with the contact's email change (subscribe
 *   the app to `contact.propertyChange` for `email`, as docs/webhooks.md explains).
 */
@Injectable()
@InboundEffectHandlerProvider()
export class HubspotEffects implements InboundEffectHandler {
  readonly provider = 'hubspot' as const;

  constructor(
    private readonly conversions: LeadConversionsService,
    private readonly leadsService: LeadsService,
    @Inject(DRIZZLE) private readonly db: Db,
  ) {}

  handles(type: string): boolean {
    return type === 'contact.creation' || type === 'contact.propertyChange';
  }

  private async linkedLead(ws: WorkspaceId, contactId: string): Promise<string | undefined> {
    const [row] = await this.db
      .select({ id: leads.id })
      .from(leads)
      .where(and(eq(leads.workspaceId, ws), sql`${leads.customFields} ->> ${HUBSPOT_CONTACT_FIELD} = ${contactId}`))
      .limit(1);
    return row?.id;
  }

  async apply(ctx: InboundEffectContext): Promise<InboundEffectResult> {
    const ev = ctx.event.payload as { objectId?: unknown; propertyName?: unknown; propertyValue?: unknown };
    const contactId = scalar(ev.objectId);
    if (!contactId) return { outcome: 'no_contact_id' };
    if (ctx.event.type === 'contact.creation') {
      return { outcome: (await this.linkedLead(ctx.workspaceId, contactId)) ? 'already_linked' : 'awaiting_email' };
    }
    const name = typeof ev.propertyName === 'string' ? ev.propertyName.toLowerCase() : '';
    const value = scalar(ev.propertyValue) ?? '';
    if (name === 'email') {
      if (!value) return { outcome: 'email_cleared' };
      const res = await this.conversions.upsertFromProvider(
        ctx.workspaceId,
        { email: value, custom_fields: { [HUBSPOT_CONTACT_FIELD]: contactId } },
        'hubspot',
      );
      return { outcome: res.result === 'created' ? 'lead_created' : 'lead_merged' };
    }
    const field = HUBSPOT_PROPERTY_MAP[name];
    if (!field) return { outcome: 'ignored_property' };
    const leadId = await this.linkedLead(ctx.workspaceId, contactId);
    if (!leadId)
      throw new HubspotContactNotYetKnown(`HubSpot contact ${contactId} is not linked to a lead yet (its email has not arrived)`);
    await this.leadsService.patch(ctx.workspaceId, leadId, { [field]: value || null });
    return { outcome: 'lead_updated' };
  }
}
