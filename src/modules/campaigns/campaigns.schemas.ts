import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { paginationQuery } from '../../common/http/pagination';
import { CAMPAIGN_CHANNELS, CAMPAIGN_STATUSES } from '../../db/schema/campaigns';
import { safeText } from '../leads/leads.schemas';

const day = z.iso.date().describe('YYYY-MM-DD');
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'ISO 4217 code such as USD')
  .transform((c) => c.toUpperCase());
/** The `utm_campaign` value that attributes leads to this campaign (case-sensitive, as in the link). */
const utmKey = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^\s]+$/, 'no spaces');

const budget = z.strictObject({
  amount_minor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('Integer minor units (cents)'),
  currency,
});

const datesValid = (v: { starts_on?: string | null; ends_on?: string | null }) =>
  !v.starts_on || !v.ends_on || v.ends_on >= v.starts_on;

export const createCampaignSchema = z
  .strictObject({
    name: safeText(200).pipe(z.string().min(1)),
    channel: z.enum(CAMPAIGN_CHANNELS),
    status: z.enum(CAMPAIGN_STATUSES).default('draft'),
    budget: budget.nullable().optional(),
    starts_on: day.nullable().optional(),
    ends_on: day.nullable().optional(),
    utm_campaign: utmKey.nullable().optional(),
  })
  .refine(datesValid, { message: 'ends_on must not be before starts_on', path: ['ends_on'] });
export class CreateCampaignDto extends createZodDto(createCampaignSchema) {}

export const patchCampaignSchema = z
  .strictObject({
    name: safeText(200).pipe(z.string().min(1)).optional(),
    channel: z.enum(CAMPAIGN_CHANNELS).optional(),
    status: z.enum(CAMPAIGN_STATUSES).optional(),
    budget: budget.nullable().optional(),
    starts_on: day.nullable().optional(),
    ends_on: day.nullable().optional(),
    utm_campaign: utmKey.nullable().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'Nothing to update')
  .refine(datesValid, { message: 'ends_on must not be before starts_on', path: ['ends_on'] });
export class PatchCampaignDto extends createZodDto(patchCampaignSchema) {}

export const listCampaignsQuery = paginationQuery.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() });
export class ListCampaignsQueryDto extends createZodDto(listCampaignsQuery) {}

export const campaignViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  channel: z.enum(CAMPAIGN_CHANNELS),
  status: z.enum(CAMPAIGN_STATUSES),
  budget: z.object({ amount_minor: z.number().int(), currency: z.string() }).nullable(),
  starts_on: z.string().nullable(),
  ends_on: z.string().nullable(),
  utm_campaign: z.string().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export type CampaignView = z.infer<typeof campaignViewSchema>;
export class CampaignDto extends createZodDto(campaignViewSchema) {}
export class CampaignPageDto extends createZodDto(
  z.object({ data: z.array(campaignViewSchema), next_cursor: z.string().nullable() }),
) {}

export const campaignStatsSchema = z.object({
  campaign_id: z.uuid(),
  leads: z.number().int().describe('Leads attributed to the campaign (first touch carried its utm_campaign)'),
  confirmed: z.number().int().describe('… of which confirmed their address (double opt-in) or gave consent'),
  emailed: z.number().int().describe('… of which received at least one email'),
  unsubscribed: z.number().int().describe('… of which unsubscribed'),
  customers: z.number().int().describe('… of which became customers'),
  revenue: z
    .array(z.object({ currency: z.string(), amount_minor: z.number().int() }))
    .describe('Net conversions attributed to the campaign, per currency (refunds subtract)'),
});
export class CampaignStatsDto extends createZodDto(campaignStatsSchema) {}
