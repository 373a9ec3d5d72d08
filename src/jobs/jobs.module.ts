import { Global, Module, type DynamicModule, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { Database } from '../db/database';
import { DATABASE } from '../db/database.module';
import { EventDispatcher } from '../events/event-dispatcher';
import { ROOT_LOGGER } from '../observability/root-logger';
import { DEMO_JOBS, DemoJobs } from './demo.jobs';
import { EffectsService } from './effects';
import type { JobDefinition } from './job-definition';
import { JobDefinitionSet, JobRegistry } from './job-registry';
import { JobsAdminService } from './jobs-admin.service';
import { JobsController } from './jobs.controller';
import { JobsMetrics } from './jobs.metrics';
import { JobsRuntime } from './jobs.runtime';
import { JobsService } from './jobs.service';
import { QUEUE_BACKEND } from './jobs.tokens';
import { createQueueBackend, type QueueBackend } from './queue-backend';
import { SYSTEM_JOBS, SystemJobs } from './system.jobs';

@Module({})
class JobDefinitionsModule {}

/**
 * Jobs and events: the queue backend, the job registry, JobsService (enqueue, schedule),
 * EffectsService, the event dispatcher, the admin API and the worker runtime. Global, so
 * feature modules only import `JobsModule.forFeature([...their jobs])`.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  controllers: [JobsController],
  providers: [
    {
      provide: QUEUE_BACKEND,
      inject: [APP_CONFIG, DATABASE, ROOT_LOGGER],
      useFactory: (config: AppConfig, database: Database, log: Logger): QueueBackend =>
        createQueueBackend({ config, database, log: log.child({ component: 'queue' }) }),
    },
    JobRegistry,
    JobsService,
    JobsAdminService,
    JobsMetrics,
    JobsRuntime,
    EffectsService,
    EventDispatcher,
    SystemJobs,
    DemoJobs,
    { provide: 'switchboard:jobs:builtin', useValue: new JobDefinitionSet([...SYSTEM_JOBS, ...DEMO_JOBS]) },
  ],
  exports: [JobsService, EffectsService, JobRegistry, JobsRuntime, QUEUE_BACKEND],
})
export class JobsModule implements OnApplicationShutdown {
  constructor(@Inject(QUEUE_BACKEND) private readonly backend: QueueBackend) {}

  /** Registers the job types a feature module owns (their handlers use `@JobHandler`). */
  static forFeature(definitions: JobDefinition[]): DynamicModule {
    const token = `switchboard:jobs:${definitions.map((d) => d.name).join(',')}`;
    return {
      module: JobDefinitionsModule,
      providers: [{ provide: token, useValue: new JobDefinitionSet(definitions) }],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.backend.close();
  }
}
