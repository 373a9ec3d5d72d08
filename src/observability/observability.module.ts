import { Global, Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { Lifecycle } from './lifecycle';
import { MetricsService } from './metrics';

@Global()
@Module({
  controllers: [HealthController],
  providers: [MetricsService, Lifecycle],
  exports: [MetricsService, Lifecycle],
})
export class ObservabilityModule {}
