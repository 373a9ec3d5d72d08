import { Inject, Injectable } from '@nestjs/common';
import { sql, type SQL } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import type { AnalyticsProvider } from '../../../db/schema/analytics';
import { addDays, periodStart } from '../dates';
import { parseScaled } from '../money';
import { zeroSums, type Sums } from './kpis';

export type AdGroup = 'none' | 'day' | 'week' | 'month' | 'provider' | 'source' | 'channel' | 'campaign';

export interface AdFilter {
  from: string;
  to: string;
  provider?: AnalyticsProvider;
  /** Campaign keys (lower-cased names) the rows must have. */
  campaignKeys?: string[];
}

export interface AdAggregate {
  key: string | null;
  currency: string;
  sums: Sums;
  /** For campaign groups: a campaign name and the providers it ran on. */
  label?: string;
  providers?: AnalyticsProvider[];
}

const GROUP_KEY: Record<AdGroup, SQL> = {
  none: sql`null::text`,
  day: sql`date::text`,
  week: sql`date_trunc('week', date)::date::text`,
  month: sql`date_trunc('month', date)::date::text`,
  provider: sql`provider`,
  source: sql`lower(source)`,
  channel: sql`channel`,
  campaign: sql`campaign_key`,
};

/**
 * Dashboard reads of ad metrics. Without a campaign dimension they come from
 * `ad_metrics_daily_rollup` (a few rows per account and day); campaign filters and the campaign
 * breakdown read `ad_metrics_daily` through its (workspace, date) and (workspace, campaign key,
 * date) indexes. GA4 conversions are "key events" and its revenue "site revenue": they are kept
 * apart from the ad platforms' conversions so the two are never added up.
 */
@Injectable()
export class DashboardRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async aggregate(ws: WorkspaceId, f: AdFilter, group: AdGroup): Promise<AdAggregate[]> {
    const where: SQL[] = [sql`workspace_id = ${ws}::uuid`];
    if (f.provider) where.push(sql`provider = ${f.provider}`);
    let source: SQL;
    if (f.campaignKeys) {
      // A campaign filter reads the raw rows through the (workspace, campaign key, date) index.
      where.push(sql`campaign_key = any(${sql.param(f.campaignKeys)}::text[])`);
      source = sql`(select * from ad_metrics_daily where ${sql.join(where, sql` and `)}
        and date between ${f.from}::date and ${f.to}::date) t`;
    } else if (group === 'campaign') {
      source = this.campaignSource(where, f);
    } else {
      source = sql`(select * from ad_metrics_daily_rollup where ${sql.join(where, sql` and `)}
        and date between ${f.from}::date and ${f.to}::date) t`;
    }
    const extra =
      group === 'campaign'
        ? sql`, max(campaign_name) as label, array_remove(array[
            case when bool_or(provider = 'ga4') then 'ga4' end,
            case when bool_or(provider = 'meta_ads') then 'meta_ads' end,
            case when bool_or(provider = 'linkedin_ads') then 'linkedin_ads' end], null) as providers`
        : sql``;
    const res = await this.serial<Record<string, string | string[] | null>>(sql`
      select ${GROUP_KEY[group]} as key, currency,
        sum(impressions)::text as impressions, sum(clicks)::text as clicks, sum(spend_micros)::text as spend,
        coalesce(sum(conversions) filter (where provider <> 'ga4'), 0)::text as conversions,
        coalesce(sum(conversion_value_micros) filter (where provider <> 'ga4'), 0)::text as cvalue,
        sum(sessions)::text as sessions, sum(users)::text as users,
        coalesce(sum(conversions) filter (where provider = 'ga4'), 0)::text as key_events,
        coalesce(sum(conversion_value_micros) filter (where provider = 'ga4'), 0)::text as site_revenue
        ${extra}
      from ${source}
      group by 1, 2`);
    return res.rows.map((r) => ({
      key: r.key as string | null,
      currency: r.currency as string,
      sums: {
        ...zeroSums(),
        impressions: BigInt(r.impressions as string),
        clicks: BigInt(r.clicks as string),
        spendMicros: BigInt(r.spend as string),
        conversions: parseScaled(r.conversions as string, 6),
        conversionValueMicros: BigInt(r.cvalue as string),
        sessions: BigInt(r.sessions as string),
        users: BigInt(r.users as string),
        keyEvents: parseScaled(r.key_events as string, 6),
        siteRevenueMicros: BigInt(r.site_revenue as string),
      },
      ...(group === 'campaign' ? { label: r.label as string, providers: parsePgArray(r.providers) as AnalyticsProvider[] } : {}),
    }));
  }

  /**
   * Runs a dashboard query without parallel workers. These queries read a few thousand rollup
   * rows; measured on the benchmark data, PostgreSQL's parallel plans cost more to start (tens of
   * ms) than the whole query (1 ms for an ordinary workspace, ~28 ms vs ~49 ms for the largest).
   * `set local` lasts for this one transaction only.
   */
  private serial<T extends Record<string, unknown>>(query: SQL) {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`set local max_parallel_workers_per_gather = 0`);
      return tx.execute<T>(query);
    });
  }

  /**
   * The campaign breakdown's rows: whole ISO weeks from ad_metrics_campaign_weekly and the edge
   * days (at most six at each end) from ad_metrics_campaign_daily — for a 90-day range about 25
   * rows per campaign instead of 90 × its source/medium rows.
   */
  private campaignSource(where: SQL[], f: AdFilter): SQL {
    const cols = sql`provider, campaign_key, currency, campaign_name, impressions, clicks, spend_micros, conversions,
      conversion_value_micros, sessions, users`;
    const firstMonday = periodStart(f.from, 'week') === f.from ? f.from : addDays(periodStart(f.from, 'week'), 7);
    let lastMonday = periodStart(f.to, 'week');
    if (addDays(lastMonday, 6) > f.to) lastMonday = addDays(lastMonday, -7);
    const cond = sql.join(where, sql` and `);
    if (firstMonday > lastMonday)
      return sql`(select ${cols} from ad_metrics_campaign_daily where ${cond}
        and date between ${f.from}::date and ${f.to}::date) t`;
    return sql`(
      select ${cols} from ad_metrics_campaign_weekly where ${cond}
        and week_start between ${firstMonday}::date and ${lastMonday}::date
      union all
      select ${cols} from ad_metrics_campaign_daily where ${cond}
        and (date between ${f.from}::date and ${addDays(firstMonday, -1)}::date
          or date between ${addDays(lastMonday, 7)}::date and ${f.to}::date)) t`;
  }
}

/** `array_agg` arrives as a JS array from pg, or as `{a,b}` text through some drivers. */
function parsePgArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string')
    return v
      .replace(/^\{|\}$/g, '')
      .split(',')
      .filter(Boolean);
  return [];
}
