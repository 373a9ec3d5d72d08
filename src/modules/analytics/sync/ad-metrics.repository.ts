import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import type { AnalyticsProvider } from '../../../db/schema/analytics';
import type { Executor } from '../connections/connections.repository';
import { formatScaled, parseScaled } from '../money';
import type { NormalizedRow } from '../providers/provider-client';

export interface AccountScope {
  provider: AnalyticsProvider;
  accountId: string;
}

/** The matching key of a campaign name: how ad rows meet our campaigns' utm_campaign / name. */
export const campaignKey = (name: string) => name.trim().toLowerCase();

/**
 * Rows with the same key inside one answer are merged (summed), so a single upsert statement
 * never touches a row twice — providers should not send such duplicates, but GA4 channel
 * grouping or a retried page must not break a sync.
 */
export function mergeDuplicates(rows: NormalizedRow[]): NormalizedRow[] {
  const byKey = new Map<string, NormalizedRow>();
  for (const r of rows) {
    const key = `${r.date}\u0000${r.campaignExternalId}\u0000${r.source}\u0000${r.medium}`;
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, { ...r });
      continue;
    }
    prev.impressions += r.impressions;
    prev.clicks += r.clicks;
    prev.spendMicros += r.spendMicros;
    prev.conversions = formatScaled(parseScaled(prev.conversions, 6) + parseScaled(r.conversions, 6), 6);
    prev.conversionValueMicros += r.conversionValueMicros;
    prev.sessions += r.sessions;
    prev.users += r.users;
  }
  return [...byKey.values()];
}

/** Writes to ad_metrics_daily and its rollup; always inside the sync's page transaction. */
@Injectable()
export class AdMetricsRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  /**
   * Upserts one page in a single statement: the rows travel as one array per column
   * (`unnest`), so a 10,000-row GA4 page is one round trip and never hits the 65,535-parameter
   * limit. Re-syncs update rows in place; nothing is ever duplicated.
   */
  async upsert(ws: WorkspaceId, scope: AccountScope, syncToken: string, input: NormalizedRow[], exec: Executor): Promise<number> {
    const rows = mergeDuplicates(input);
    if (!rows.length) return 0;
    const col = <T>(f: (r: NormalizedRow) => T) => sql.param(rows.map(f));
    await exec.execute(sql`
      insert into ad_metrics_daily (
        workspace_id, provider, account_id, date, campaign_external_id, campaign_name, campaign_key,
        source, medium, channel, impressions, clicks, spend_micros, currency, conversions,
        conversion_value_micros, sessions, users, sync_token, updated_at)
      select ${ws}::uuid, ${scope.provider}, ${scope.accountId}, u.date, u.cid, u.cname, u.ckey,
        u.source, u.medium, u.channel, u.impressions, u.clicks, u.spend, u.currency, u.conversions,
        u.cvalue, u.sessions, u.users, ${syncToken}::uuid, now()
      from unnest(
        ${col((r) => r.date)}::date[], ${col((r) => r.campaignExternalId)}::text[], ${col((r) => r.campaignName)}::text[],
        ${col((r) => campaignKey(r.campaignName))}::text[], ${col((r) => r.source)}::text[], ${col((r) => r.medium)}::text[],
        ${col((r) => r.channel)}::text[], ${col((r) => r.impressions)}::bigint[], ${col((r) => r.clicks)}::bigint[],
        ${col((r) => r.spendMicros.toString())}::bigint[], ${col((r) => r.currency)}::text[], ${col((r) => r.conversions)}::numeric[],
        ${col((r) => r.conversionValueMicros.toString())}::bigint[], ${col((r) => r.sessions)}::bigint[], ${col((r) => r.users)}::bigint[]
      ) as u(date, cid, cname, ckey, source, medium, channel, impressions, clicks, spend, currency, conversions, cvalue, sessions, users)
      on conflict (workspace_id, provider, account_id, date, campaign_external_id, source, medium) do update set
        campaign_name = excluded.campaign_name, campaign_key = excluded.campaign_key, channel = excluded.channel,
        impressions = excluded.impressions, clicks = excluded.clicks, spend_micros = excluded.spend_micros,
        currency = excluded.currency, conversions = excluded.conversions,
        conversion_value_micros = excluded.conversion_value_micros, sessions = excluded.sessions,
        users = excluded.users, sync_token = excluded.sync_token, updated_at = now()`);
    return rows.length;
  }

  /** After a window is complete: rows of the window the provider no longer reports are removed. */
  async deleteStale(
    ws: WorkspaceId,
    scope: AccountScope,
    range: { from: string; to: string },
    syncToken: string,
    exec: Executor,
  ): Promise<number> {
    const res = await exec.execute(sql`
      delete from ad_metrics_daily
      where workspace_id = ${ws}::uuid and provider = ${scope.provider} and account_id = ${scope.accountId}
        and date between ${range.from}::date and ${range.to}::date
        and sync_token is distinct from ${syncToken}::uuid`);
    return res.rowCount ?? 0;
  }

  /**
   * Recomputes the rollups of the given days of one account from the raw rows: the daily
   * rollup, the per-campaign daily rollup, and the per-campaign weekly rollup of every ISO week
   * those days fall in.
   */
  async refreshRollup(ws: WorkspaceId, scope: AccountScope, range: { from: string; to: string }, exec: Executor): Promise<void> {
    await this.refreshDaily(ws, scope, range, exec);
    await this.refreshCampaigns(ws, scope, range, exec);
  }

  private async refreshDaily(
    ws: WorkspaceId,
    scope: AccountScope,
    range: { from: string; to: string },
    exec: Executor,
  ): Promise<void> {
    await exec.execute(sql`
      delete from ad_metrics_daily_rollup
      where workspace_id = ${ws}::uuid and provider = ${scope.provider} and account_id = ${scope.accountId}
        and date between ${range.from}::date and ${range.to}::date`);
    await exec.execute(sql`
      insert into ad_metrics_daily_rollup (workspace_id, date, provider, account_id, currency, source, channel,
        impressions, clicks, spend_micros, conversions, conversion_value_micros, sessions, users, row_count)
      select workspace_id, date, provider, account_id, currency, source, channel,
        sum(impressions), sum(clicks), sum(spend_micros), sum(conversions), sum(conversion_value_micros),
        sum(sessions), sum(users), count(*)
      from ad_metrics_daily
      where workspace_id = ${ws}::uuid and provider = ${scope.provider} and account_id = ${scope.accountId}
        and date between ${range.from}::date and ${range.to}::date
      group by workspace_id, date, provider, account_id, currency, source, channel`);
  }

  private async refreshCampaigns(
    ws: WorkspaceId,
    scope: AccountScope,
    range: { from: string; to: string },
    exec: Executor,
  ): Promise<void> {
    const account = sql`workspace_id = ${ws}::uuid and provider = ${scope.provider} and account_id = ${scope.accountId}`;
    const sums = sql`sum(impressions), sum(clicks), sum(spend_micros), sum(conversions), sum(conversion_value_micros),
      sum(sessions), sum(users)`;
    const cols = sql`workspace_id, provider, account_id, campaign_key, currency, campaign_name, impressions, clicks, spend_micros,
      conversions, conversion_value_micros, sessions, users`;
    await exec.execute(sql`delete from ad_metrics_campaign_daily
      where ${account} and date between ${range.from}::date and ${range.to}::date`);
    await exec.execute(sql`
      insert into ad_metrics_campaign_daily (${cols}, date)
      select workspace_id, provider, account_id, campaign_key, currency, max(campaign_name), ${sums}, date
      from ad_metrics_daily
      where ${account} and date between ${range.from}::date and ${range.to}::date
      group by workspace_id, provider, account_id, campaign_key, currency, date`);
    // Whole ISO weeks around the range, rebuilt from the per-campaign days.
    const weekFrom = sql`date_trunc('week', ${range.from}::date)::date`;
    const weekTo = sql`date_trunc('week', ${range.to}::date)::date`;
    await exec.execute(sql`delete from ad_metrics_campaign_weekly
      where ${account} and week_start between ${weekFrom} and ${weekTo}`);
    await exec.execute(sql`
      insert into ad_metrics_campaign_weekly (${cols}, week_start)
      select workspace_id, provider, account_id, campaign_key, currency, max(campaign_name),
        sum(impressions), sum(clicks), sum(spend_micros), sum(conversions), sum(conversion_value_micros),
        sum(sessions), sum(users), date_trunc('week', date)::date
      from ad_metrics_campaign_daily
      where ${account} and date between ${weekFrom} and ${weekTo} + 6
      group by workspace_id, provider, account_id, campaign_key, currency, date_trunc('week', date)`);
  }

  /** Campaign names already stored for an account (LinkedIn analytics carry ids only). */
  async knownCampaignNames(ws: WorkspaceId, scope: AccountScope): Promise<Map<string, string>> {
    const res = await this.db.execute<{ id: string; name: string }>(sql`
      select distinct on (campaign_external_id) campaign_external_id as id, campaign_name as name
      from ad_metrics_daily
      where workspace_id = ${ws}::uuid and provider = ${scope.provider} and account_id = ${scope.accountId}
        and campaign_name <> campaign_external_id
      order by campaign_external_id, date desc`);
    return new Map(res.rows.map((r) => [r.id, r.name]));
  }

  /** Removes every synced row of an account (when its connection is deleted with purge). */
  async purgeAccount(ws: WorkspaceId, scope: AccountScope): Promise<number> {
    return this.db.transaction(async (tx) => {
      const account = sql`workspace_id = ${ws}::uuid and provider = ${scope.provider} and account_id = ${scope.accountId}`;
      await tx.execute(sql`delete from ad_metrics_daily_rollup where ${account}`);
      await tx.execute(sql`delete from ad_metrics_campaign_daily where ${account}`);
      await tx.execute(sql`delete from ad_metrics_campaign_weekly where ${account}`);
      const res = await tx.execute(sql`
        delete from ad_metrics_daily
        where workspace_id = ${ws}::uuid and provider = ${scope.provider} and account_id = ${scope.accountId}`);
      return res.rowCount ?? 0;
    });
  }
}
