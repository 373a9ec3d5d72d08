import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs/jobs.module';
import { LeadsModule } from '../leads/leads.module';
import { HubSpotController } from './hubspot/hubspot.controller';
import { HUBSPOT_JOBS } from './hubspot/hubspot.job-types';
import { HubSpotJobs } from './hubspot/hubspot.jobs';
import { HubSpotRepository } from './hubspot/hubspot.repository';
import { HubSpotService } from './hubspot/hubspot.service';

/** CRM connectors: HubSpot (contacts upserted by email from lead events). */
@Module({
  imports: [LeadsModule, JobsModule.forFeature(HUBSPOT_JOBS)],
  controllers: [HubSpotController],
  providers: [HubSpotRepository, HubSpotService, HubSpotJobs],
  exports: [HubSpotService],
})
export class IntegrationsModule {}
