import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { JobsModule } from '../../jobs/jobs.module';
import { ROOT_LOGGER } from '../../observability/root-logger';
import { LeadsModule } from '../leads/leads.module';
import { EMAIL_JOBS, EmailJobs } from './email.jobs';
import { EmailSenderService, MAIL_TRANSPORT } from './email-sender.service';
import { EmailSendsRepository } from './email-sends.repository';
import { EmailTemplatesController } from './email-templates.controller';
import { EmailTemplatesRepository } from './email-templates.repository';
import { EmailTemplatesService } from './email-templates.service';
import { createMailTransport } from './mail-transport';
import { UnsubscribeController } from './unsubscribe.controller';

/**
 * Email: templates and previews, the transport (SMTP, or .eml files in embedded mode), the
 * idempotent sender with send-time suppression checks, unsubscribe pages and double opt-in mail.
 */
@Module({
  imports: [LeadsModule, JobsModule.forFeature(EMAIL_JOBS)],
  controllers: [EmailTemplatesController, UnsubscribeController],
  providers: [
    {
      provide: MAIL_TRANSPORT,
      inject: [APP_CONFIG, ROOT_LOGGER],
      useFactory: (config: AppConfig, log: Logger) =>
        createMailTransport({ smtpUrl: config.SMTP_URL, dataDir: config.dataDir, log: log.child({ component: 'mail' }) }),
    },
    EmailTemplatesRepository,
    EmailTemplatesService,
    EmailSendsRepository,
    EmailSenderService,
    EmailJobs,
  ],
  exports: [EmailSenderService, EmailTemplatesService],
})
export class EmailModule {}
