import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { DomainError } from '../../../../common/errors/domain-error';
import { LeadConversionsService } from '../../../leads/lead-conversions.service';
import {
  InboundEffectHandlerProvider,
  type InboundEffectContext,
  type InboundEffectHandler,
  type InboundEffectResult,
} from '../inbound-effects';

/** Zapier field names (normalised: lower case, spaces and dashes → `_`) → lead fields. */
export const ZAPIER_FIELD_ALIASES: Record<string, string> = {
  email: 'email',
  email_address: 'email',
  e_mail: 'email',
  first_name: 'first_name',
  firstname: 'first_name',
  fname: 'first_name',
  given_name: 'first_name',
  last_name: 'last_name',
  lastname: 'last_name',
  lname: 'last_name',
  surname: 'last_name',
  family_name: 'last_name',
  phone: 'phone',
  phone_number: 'phone',
  mobile: 'phone',
  company: 'company',
  company_name: 'company',
  organization: 'company',
  organisation: 'company',
  source: 'source',
  tags: 'tags',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  utm_term: 'utm_term',
  utm_content: 'utm_content',
};

/** Keys that describe the post itself, not the lead. */
const ENVELOPE_KEYS = new Set(['id', 'type', 'event']);
const MAX_CUSTOM_FIELDS = 50;

export function normaliseKey(key: string): string {
  return key
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/**
 * Maps a Zapier post (flat JSON or form fields; a nested `lead` or `data` object is used when
 * present) to lead fields: known names and aliases go to their field, `tags` may be a list or a
 * comma-separated string, every other scalar lands in `custom_fields` (at most 50).
 */
export function mapZapierPayload(payload: unknown): Record<string, unknown> {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return {};
  let src = payload as Record<string, unknown>;
  for (const nested of ['lead', 'data']) {
    const n = src[nested];
    if (n && typeof n === 'object' && !Array.isArray(n)) src = n as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  const custom: Record<string, string | number | boolean> = {};
  for (const [rawKey, value] of Object.entries(src)) {
    if (value === null || value === undefined || value === '') continue;
    const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    const key = normaliseKey(rawKey);
    const field = ZAPIER_FIELD_ALIASES[key];
    if (field === 'tags') {
      const list = Array.isArray(value) ? value.filter((v) => typeof v === 'string') : (text ?? '').split(',');
      out.tags = list.map((t) => t.trim()).filter(Boolean);
    } else if (field) {
      if (text !== undefined) out[field] = text;
    } else if (!ENVELOPE_KEYS.has(key) && Object.keys(custom).length < MAX_CUSTOM_FIELDS) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') custom[key.slice(0, 64)] = value;
    }
  }
  if (Object.keys(custom).length) out.custom_fields = custom;
  return out;
}

/** Zapier posts → create or merge a lead (same rules as POST /leads, source `zapier`). */
@Injectable()
@InboundEffectHandlerProvider()
export class ZapierEffects implements InboundEffectHandler {
  readonly provider = 'zapier' as const;

  constructor(private readonly conversions: LeadConversionsService) {}

  handles(): boolean {
    return true;
  }

  async apply(ctx: InboundEffectContext): Promise<InboundEffectResult> {
    const fields = mapZapierPayload(ctx.event.payload);
    if (!fields.email) throw new UnrecoverableError('The Zapier post has no email field (email, email_address)');
    try {
      const res = await this.conversions.upsertFromProvider(ctx.workspaceId, fields, 'zapier');
      return { outcome: res.result === 'created' ? 'lead_created' : 'lead_merged' };
    } catch (err) {
      // Bad data does not get better with retries.
      if (err instanceof DomainError && err.code === 'validation_failed') {
        throw new UnrecoverableError(`${err.message}: ${(err.errors ?? []).map((e) => e.path).join(', ')}`);
      }
      throw err;
    }
  }
}
