import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { SecretBox } from '../../common/crypto/encryption';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { JobsModule } from '../../jobs/jobs.module';
import { ROOT_LOGGER } from '../../observability/root-logger';
import { ANALYTICS_JOBS } from './analytics.job-types';
import { AnalyticsJobs } from './analytics.jobs';
import { ConnectionsController } from './connections/connections.controller';
import { ConnectionsRepository } from './connections/connections.repository';
import { ConnectionsService } from './connections/connections.service';
import { CredentialsVault } from './connections/credentials-vault';
import { DashboardController } from './dashboard/dashboard.controller';
import { DashboardRepository } from './dashboard/dashboard.repository';
import { DashboardService } from './dashboard/dashboard.service';
import { FirstPartyRepository } from './first-party/first-party.repository';
import { ProviderRegistry } from './providers/provider-registry';
import { ReportsController } from './reports/reports.controller';
import { ReportsRepository } from './reports/reports.repository';
import { ReportsService } from './reports/reports.service';
import { AdMetricsRepository } from './sync/ad-metrics.repository';
import { SyncScheduler } from './sync/sync-scheduler';
import { SyncEngine } from './sync/sync.service';
import { SyncRepository } from './sync/sync.repository';

/**
 * Analytics: GA4, Meta Ads and LinkedIn Ads connections synced into ad_metrics_daily by jobs,
 * the dashboard API (summary, timeseries, breakdown, first-party leads) and reports.
 * See docs/analytics.md.
 */
@Module({
  imports: [JobsModule.forFeature(ANALYTICS_JOBS)],
  controllers: [ConnectionsController, DashboardController, ReportsController],
  providers: [
    {
      provide: ProviderRegistry,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new ProviderRegistry(config, { ga4PageSize: config.ANALYTICS_PAGE_SIZE, metaPageSize: config.ANALYTICS_PAGE_SIZE }),
    },
    {
      provide: CredentialsVault,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new CredentialsVault(new SecretBox(config.secrets.ENCRYPTION_KEY, config.ENCRYPTION_PREVIOUS_KEYS)),
    },
    {
      provide: SyncEngine,
      inject: [
        DRIZZLE,
        ConnectionsRepository,
        SyncRepository,
        AdMetricsRepository,
        ProviderRegistry,
        CredentialsVault,
        APP_CONFIG,
        ROOT_LOGGER,
      ],
      useFactory: (
        db: Db,
        connections: ConnectionsRepository,
        runs: SyncRepository,
        metrics: AdMetricsRepository,
        providers: ProviderRegistry,
        vault: CredentialsVault,
        config: AppConfig,
        logger: Logger,
      ) =>
        new SyncEngine(
          db,
          connections,
          runs,
          metrics,
          providers,
          vault,
          {
            lookbackDays: {
              ga4: config.ANALYTICS_LOOKBACK_DAYS_GA4,
              meta_ads: config.ANALYTICS_LOOKBACK_DAYS_META,
              linkedin_ads: config.ANALYTICS_LOOKBACK_DAYS_LINKEDIN,
            },
            initialDays: config.ANALYTICS_INITIAL_SYNC_DAYS,
            retry: {
              attempts: config.ANALYTICS_RETRY_ATTEMPTS,
              baseMs: config.ANALYTICS_RETRY_BASE_MS,
              maxMs: config.ANALYTICS_RETRY_MAX_MS,
              quotaPauseMs: config.ANALYTICS_QUOTA_PAUSE_MS,
            },
            leaseMs: config.ANALYTICS_SYNC_LEASE_MS,
          },
          logger.child({ component: 'analytics-sync' }),
        ),
    },
    ConnectionsRepository,
    SyncRepository,
    AdMetricsRepository,
    DashboardRepository,
    FirstPartyRepository,
    ReportsRepository,
    ConnectionsService,
    DashboardService,
    ReportsService,
    SyncScheduler,
    AnalyticsJobs,
  ],
})
export class AnalyticsModule implements OnApplicationShutdown {
  constructor(@Inject(ProviderRegistry) private readonly providers: ProviderRegistry) {}

  async onApplicationShutdown(): Promise<void> {
    await this.providers.close();
  }
}
