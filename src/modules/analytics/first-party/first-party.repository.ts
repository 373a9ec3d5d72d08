import { Inject, Injectable } from '@nestjs/common';
import { sql, type SQL } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import type { Interval } from '../dates';

/**
 * First-party figures for the dashboard, read from the leads module's tables (`leads`,
 * `conversions`, `campaigns`). This file is the ONE place analytics depends on their columns:
 * `leads.created_at / converted_at / confirmed_at / consent_status / status / source /
 * first_touch / campaign_id`, `conversions.amount_minor / currency / occurred_at / lead_id /
 * campaign_id`, `campaigns.name / utm_campaign`. Dates are UTC calendar days.
 */

export interface Range {
  from: string;
  to: string;
}

/** Restricts first-party figures to one of our campaigns, or to an ad campaign key. */
export type CampaignFilter = { campaignId: string } | { key: string } | undefined;

export interface FirstPartyRow {
  key: string | null;
  leads: bigint;
  customers: bigint;
}
export interface RevenueRow {
  key: string | null;
  currency: string;
  amountMinor: bigint;
}

export interface CampaignRef {
  id: string;
  name: string;
  utmCampaign: string | null;
}

export interface LeadsReportRow {
  key: string;
  leads: number;
  confirmed: number;
  pending_confirmation: number;
  unsubscribed: number;
  customers: number;
}

export type FirstPartyGroup = 'none' | Interval | 'campaign' | 'source';
export type LeadsReportBy = 'day' | 'source' | 'utm_source' | 'utm_campaign' | 'status';

const start = (d: string) => sql`(${d}::date::timestamp at time zone 'UTC')`;
const end = (d: string) => sql`((${d}::date + 1)::timestamp at time zone 'UTC')`;
const inRange = (col: SQL, r: Range) => sql`${col} >= ${start(r.from)} and ${col} < ${end(r.to)}`;

function bucket(col: SQL, g: FirstPartyGroup): SQL {
  const utcDay = sql`(${col} at time zone 'UTC')`;
  switch (g) {
    case 'day':
      return sql`${utcDay}::date::text`;
    case 'week':
      return sql`date_trunc('week', ${utcDay})::date::text`;
    case 'month':
      return sql`date_trunc('month', ${utcDay})::date::text`;
    default:
      return sql`null::text`;
  }
}

/** A lead's campaign key when it has no campaign: its first touch's utm_campaign. */
const leadUtmKey = sql`lower(trim(nullif(l.first_touch->>'utm_campaign', '')))`;
const leadSourceKey = sql`lower(trim(coalesce(nullif(l.first_touch->>'utm_source', ''), nullif(l.source, ''), '(none)')))`;

@Injectable()
export class FirstPartyRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  private leadFilter(ws: WorkspaceId, f: CampaignFilter): SQL {
    if (!f) return sql`true`;
    if ('campaignId' in f) return sql`l.campaign_id = ${f.campaignId}::uuid`;
    return sql`(l.campaign_id in (select id from campaigns where workspace_id = ${ws}::uuid
      and (lower(trim(utm_campaign)) = ${f.key} or lower(trim(name)) = ${f.key})) or ${leadUtmKey} = ${f.key})`;
  }

  private conversionFilter(ws: WorkspaceId, f: CampaignFilter): SQL {
    if (!f) return sql`true`;
    if ('campaignId' in f) return sql`c.campaign_id = ${f.campaignId}::uuid`;
    return sql`(c.campaign_id in (select id from campaigns where workspace_id = ${ws}::uuid
      and (lower(trim(utm_campaign)) = ${f.key} or lower(trim(name)) = ${f.key}))
      or (c.campaign_id is null and c.lead_id in (select l.id from leads l where l.workspace_id = ${ws}::uuid and ${leadUtmKey} = ${f.key})))`;
  }

  /**
   * Leads created and new customers (leads whose first conversion falls in the range), grouped
   * by period, campaign (our campaign id, or the utm key of leads without one) or source.
   */
  async leadCounts(ws: WorkspaceId, r: Range, group: FirstPartyGroup, f?: CampaignFilter): Promise<FirstPartyRow[]> {
    const key = (col: SQL) =>
      group === 'campaign'
        ? sql`coalesce(l.campaign_id::text, 'utm:' || ${leadUtmKey})`
        : group === 'source'
          ? leadSourceKey
          : bucket(col, group);
    const res = await this.db.execute<{ key: string | null; leads: string; customers: string }>(sql`
      select key, sum(leads)::text as leads, sum(customers)::text as customers from (
        select ${key(sql`l.created_at`)} as key, count(*) as leads, 0 as customers
        from leads l where l.workspace_id = ${ws}::uuid and ${inRange(sql`l.created_at`, r)} and ${this.leadFilter(ws, f)}
        group by 1
        union all
        select ${key(sql`l.converted_at`)} as key, 0, count(*)
        from leads l where l.workspace_id = ${ws}::uuid and l.converted_at is not null
          and ${inRange(sql`l.converted_at`, r)} and ${this.leadFilter(ws, f)}
        group by 1
      ) t group by key`);
    return res.rows.map((x) => ({ key: x.key, leads: BigInt(x.leads), customers: BigInt(x.customers) }));
  }

  /** Revenue recorded (refunds negative), in minor units per currency, grouped like leadCounts. */
  async revenue(ws: WorkspaceId, r: Range, group: FirstPartyGroup, f?: CampaignFilter): Promise<RevenueRow[]> {
    const key =
      group === 'campaign'
        ? sql`coalesce(c.campaign_id::text, 'utm:' || ${leadUtmKey})`
        : group === 'source'
          ? leadSourceKey
          : bucket(sql`c.occurred_at`, group);
    const res = await this.db.execute<{ key: string | null; currency: string; amount: string }>(sql`
      select ${key} as key, c.currency, sum(c.amount_minor)::text as amount
      from conversions c left join leads l on l.id = c.lead_id and l.workspace_id = c.workspace_id
      where c.workspace_id = ${ws}::uuid and ${inRange(sql`c.occurred_at`, r)} and ${this.conversionFilter(ws, f)}
      group by 1, 2`);
    return res.rows.map((x) => ({ key: x.key, currency: x.currency, amountMinor: BigInt(x.amount) }));
  }

  async campaign(ws: WorkspaceId, id: string): Promise<CampaignRef | undefined> {
    const res = await this.db.execute<{ id: string; name: string; utm_campaign: string | null }>(sql`
      select id, name, utm_campaign from campaigns where workspace_id = ${ws}::uuid and id = ${id}::uuid`);
    const row = res.rows[0];
    return row ? { id: row.id, name: row.name, utmCampaign: row.utm_campaign } : undefined;
  }

  async campaigns(ws: WorkspaceId): Promise<CampaignRef[]> {
    const res = await this.db.execute<{ id: string; name: string; utm_campaign: string | null }>(sql`
      select id, name, utm_campaign from campaigns where workspace_id = ${ws}::uuid order by id`);
    return res.rows.map((row) => ({ id: row.id, name: row.name, utmCampaign: row.utm_campaign }));
  }

  /** Leads created in the range by day, source, UTM source/campaign or status, with confirmation and unsubscribes. */
  async leadsReport(ws: WorkspaceId, r: Range, by: LeadsReportBy): Promise<LeadsReportRow[]> {
    const key = {
      day: sql`(l.created_at at time zone 'UTC')::date::text`,
      source: sql`coalesce(nullif(l.source, ''), '(none)')`,
      utm_source: sql`coalesce(nullif(l.first_touch->>'utm_source', ''), '(none)')`,
      utm_campaign: sql`coalesce(nullif(l.first_touch->>'utm_campaign', ''), '(none)')`,
      status: sql`l.status`,
    }[by];
    const res = await this.db.execute<Record<string, string>>(sql`
      select ${key} as key, count(*)::text as leads,
        count(*) filter (where l.confirmed_at is not null)::text as confirmed,
        count(*) filter (where l.confirmed_at is null and l.consent_status = 'pending')::text as pending,
        count(*) filter (where l.status = 'unsubscribed')::text as unsubscribed,
        count(*) filter (where l.converted_at is not null)::text as customers
      from leads l
      where l.workspace_id = ${ws}::uuid and ${inRange(sql`l.created_at`, r)}
      group by 1 order by 1`);
    return res.rows.map((x) => ({
      key: x.key,
      leads: Number(x.leads),
      confirmed: Number(x.confirmed),
      pending_confirmation: Number(x.pending),
      unsubscribed: Number(x.unsubscribed),
      customers: Number(x.customers),
    }));
  }
}
