import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../../auth/auth-context';
import { Access } from '../../../common/decorators/access.decorator';
import {
  BreakdownDto,
  BreakdownQueryDto,
  LeadsAnalyticsDto,
  LeadsQueryDto,
  SummaryDto,
  SummaryQueryDto,
  TimeseriesDto,
  TimeseriesQueryDto,
  queryRange,
} from '../analytics.schemas';
import { DashboardService } from './dashboard.service';

const filterOf = (q: SummaryQueryDto) => ({
  ...queryRange(q),
  provider: q.provider,
  campaign_id: q.campaign_id,
  campaign: q.campaign,
});

@ApiTags('analytics')
@Controller('analytics')
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Access('analytics:read')
  @Get('summary')
  @ApiOperation({
    summary: 'Totals and KPIs for a date range (default: the last 30 days)',
    description:
      'Ad figures come from ad_metrics_daily (GA4, Meta, LinkedIn); leads, customers and revenue from our own data. ' +
      'Money is in minor units of `currency`. Figures in several currencies are never summed silently: they are ' +
      'converted with the configured rate table (and `currency_conversion` says so) or split in `by_currency`.',
  })
  @ApiOkResponse({ type: SummaryDto })
  summary(@Auth() auth: AuthContext, @Query() q: SummaryQueryDto) {
    return this.dashboard.summary(auth.workspaceId, filterOf(q));
  }

  @Access('analytics:read')
  @Get('timeseries')
  @ApiOperation({ summary: 'One metric (a total or a KPI) per day, ISO week or month, zero-filled' })
  @ApiOkResponse({ type: TimeseriesDto })
  timeseries(@Auth() auth: AuthContext, @Query() q: TimeseriesQueryDto) {
    return this.dashboard.timeseries(auth.workspaceId, filterOf(q), q.metric, q.interval);
  }

  @Access('analytics:read')
  @Get('breakdown')
  @ApiOperation({
    summary: 'Totals and KPIs by provider, campaign, source or channel, biggest first',
    description: 'Campaign rows join ad campaigns to our campaigns by utm_campaign or name (case-insensitive).',
  })
  @ApiOkResponse({ type: BreakdownDto })
  breakdown(@Auth() auth: AuthContext, @Query() q: BreakdownQueryDto) {
    return this.dashboard.breakdown(auth.workspaceId, filterOf(q), q.by, { limit: q.limit, cursor: q.cursor });
  }

  @Access('analytics:read')
  @Get('leads')
  @ApiOperation({
    summary: 'First-party lead analytics: leads by day, source, UTM source/campaign or status',
    description: 'Works without any ad connection. Confirmation and unsubscribe rates are over the leads created in the range.',
  })
  @ApiOkResponse({ type: LeadsAnalyticsDto })
  leads(@Auth() auth: AuthContext, @Query() q: LeadsQueryDto) {
    return this.dashboard.leads(auth.workspaceId, queryRange(q), q.by);
  }
}
