import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs/jobs.module';
import { EmailLinkTokens } from '../email/email-tokens';
import { CaptureThrottle } from './capture-throttle';
import { CaptureController } from './capture.controller';
import { CaptureService } from './capture.service';
import { LeadsBodyParsers } from './http-body-parsers';
import { LeadConversionsService } from './lead-conversions.service';
import { LeadImportsService } from './lead-imports.service';
import { LEADS_JOBS } from './leads.job-types';
import { LeadsJobs } from './leads.jobs';
import { LeadsController } from './leads.controller';
import { LeadsRepository } from './leads.repository';
import { LeadsService } from './leads.service';

/**
 * Leads: create-or-merge, CRUD, timeline, CSV import/export, GDPR export/erase, public capture
 * with double opt-in. Exports LeadsService and LeadConversionsService for other modules
 * (email, sequences, CRM, webhooks: conversions and provider payloads).
 */
@Module({
  imports: [JobsModule.forFeature(LEADS_JOBS)],
  controllers: [LeadsController, CaptureController],
  providers: [
    LeadsRepository,
    LeadsService,
    LeadConversionsService,
    LeadImportsService,
    LeadsJobs,
    CaptureService,
    CaptureThrottle,
    LeadsBodyParsers,
    EmailLinkTokens,
  ],
  exports: [LeadsService, LeadConversionsService, LeadsRepository, EmailLinkTokens],
})
export class LeadsModule {}
