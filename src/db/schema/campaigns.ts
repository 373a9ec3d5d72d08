import { sql } from 'drizzle-orm';
import { bigint, check, date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from './columns';
import { workspaces } from './identity';

export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export const CAMPAIGN_CHANNELS = [
  'email',
  'paid_search',
  'paid_social',
  'organic_social',
  'display',
  'affiliate',
  'referral',
  'event',
  'content',
  'other',
] as const;
export type CampaignChannel = (typeof CAMPAIGN_CHANNELS)[number];

/**
 * Marketing campaigns. `utm_campaign` is the key that attributes leads: a lead whose first touch
 * (or capture) carries `utm_campaign=<key>` belongs to the campaign. Budget in minor units.
 */
export const campaigns = pgTable(
  'campaigns',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    channel: text({ enum: CAMPAIGN_CHANNELS }).notNull(),
    status: text({ enum: CAMPAIGN_STATUSES }).notNull().default('draft'),
    budgetMinor: bigint({ mode: 'number' }),
    currency: text(),
    startsOn: date({ mode: 'string' }),
    endsOn: date({ mode: 'string' }),
    utmCampaign: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('campaigns_workspace_idx').on(t.workspaceId, t.id),
    uniqueIndex('campaigns_utm_key').on(t.workspaceId, t.utmCampaign),
    check('campaigns_budget_currency', sql`(${t.budgetMinor} is null) = (${t.currency} is null)`),
    check('campaigns_dates', sql`${t.endsOn} is null or ${t.startsOn} is null or ${t.endsOn} >= ${t.startsOn}`),
  ],
);
