import { Injectable } from '@nestjs/common';
import type { JobContext, JobPayload } from '../../jobs/job-definition';
import { JobHandler } from '../../jobs/job-handler.decorator';
import { LeadImportsService } from './lead-imports.service';
import { leadImportJob } from './leads.job-types';

@Injectable()
export class LeadsJobs {
  constructor(private readonly imports: LeadImportsService) {}

  @JobHandler(leadImportJob)
  async runImport(payload: JobPayload<typeof leadImportJob>, ctx: JobContext) {
    const ws = ctx.workspaceId;
    if (!ws) throw new Error('leads.import needs a workspace');
    try {
      const view = await this.imports.process(ws, payload.import_id, (f) => ctx.job.updateProgress(Math.round(f * 100)));
      ctx.log.info({ import_id: view.id, created: view.created, merged: view.merged, failed: view.failed }, 'import finished');
      return { created: view.created, merged: view.merged, failed: view.failed };
    } catch (err) {
      // The last attempt leaves the import marked failed (its remaining rows stay staged).
      if (ctx.attempt >= (ctx.job.opts.attempts ?? 1)) await this.imports.fail(ws, payload.import_id, (err as Error).message);
      throw err;
    }
  }
}
