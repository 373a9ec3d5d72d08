import { Global, Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { ZodValidationPipe } from 'nestjs-zod';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module';
import { ProblemDetailsFilter } from './common/filters/problem-details.filter';
import { RedisModule } from './common/redis.module';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { JobsModule } from './jobs/jobs.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';
import { ZapierModule } from './modules/zapier/zapier.module';
import { LeadsModule } from './modules/leads/leads.module';
import { CampaignsModule } from './modules/campaigns/campaigns.module';
import { EmailModule } from './modules/email/email.module';
import { IntegrationsModule } from './modules/integrations/integrations.module';
import { SequencesModule } from './modules/sequences/sequences.module';
import { AnalyticsModule } from './modules/analytics/analytics.module';
import type { Database } from './db/database';
import { DatabaseModule } from './db/database.module';
import { ROOT_LOGGER } from './observability/root-logger';
import { ObservabilityModule } from './observability/observability.module';

export interface AppDeps {
  config: AppConfig;
  database: Database;
  redis: Redis | null;
  logger: Logger;
  /** Extra modules (tests mount probe controllers through this). */
  extraImports?: Array<Type | DynamicModule>;
}

@Global()
@Module({})
export class AppModule {
  static forRoot(deps: AppDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(deps.config),
        DatabaseModule.forRoot(deps.database),
        RedisModule.forRoot(deps.redis),
        ObservabilityModule,
        AuthModule,
        JobsModule,
        WebhooksModule,
        ZapierModule,
        LeadsModule,
        CampaignsModule,
        EmailModule,
        SequencesModule,
        IntegrationsModule,
        AnalyticsModule,
        ...(deps.extraImports ?? []),
      ],
      exports: [ROOT_LOGGER],
      providers: [
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: ROOT_LOGGER, useValue: deps.logger },
      ],
    };
  }
}
