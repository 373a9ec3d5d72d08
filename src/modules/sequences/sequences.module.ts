import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs/jobs.module';
import { EmailModule } from '../email/email.module';
import { LeadsModule } from '../leads/leads.module';
import { SequenceEngine } from './sequence-engine';
import { SEQUENCE_JOBS } from './sequences.job-types';
import { SequencesController } from './sequences.controller';
import { SequencesJobs } from './sequences.jobs';
import { SequencesRepository } from './sequences.repository';
import { SequencesService } from './sequences.service';

/** Marketing automation: sequences of delayed email steps, triggers, exits, the step jobs. */
@Module({
  imports: [LeadsModule, EmailModule, JobsModule.forFeature(SEQUENCE_JOBS)],
  controllers: [SequencesController],
  providers: [SequencesRepository, SequencesService, SequenceEngine, SequencesJobs],
})
export class SequencesModule {}
