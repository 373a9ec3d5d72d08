import { z } from 'zod';
import { defineJob } from '../../jobs/job-definition';

/** Merges the staged rows of one CSV import (payload: the import id only). */
export const leadImportJob = defineJob({
  name: 'leads.import',
  queue: 'default',
  schema: z.strictObject({ import_id: z.uuid() }),
  description: 'Merges the validated rows of a CSV import into leads, in batches, with progress',
  options: { attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
});

export const LEADS_JOBS = [leadImportJob];
