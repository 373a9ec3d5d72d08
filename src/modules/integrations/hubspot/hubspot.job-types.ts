import { z } from 'zod';
import { defineJob } from '../../../jobs/job-definition';

/** Drains a workspace's pending CRM updates to HubSpot in batches of 100 (ids only in the job). */
export const hubspotFlushJob = defineJob({
  name: 'crm.hubspot-flush',
  queue: 'default',
  schema: z.strictObject({}),
  description: 'Upserts the changed leads of a workspace to HubSpot (CRM v3 batch upsert by email)',
  options: { attempts: 10, backoff: { type: 'exponential', delay: 5000 } },
});

export const HUBSPOT_JOBS = [hubspotFlushJob];
