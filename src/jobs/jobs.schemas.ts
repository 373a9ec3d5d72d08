import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { paginationQuery } from '../common/http/pagination';

/** States the admin API lists, in the order an unfiltered list walks them. */
export const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;
export type JobStateName = (typeof JOB_STATES)[number];

export class ListJobsQueryDto extends createZodDto(
  z.strictObject({
    queue: z.string().max(40).optional().describe('One queue (events, default, system, …); all queues when omitted'),
    state: z.enum(JOB_STATES).optional().describe('One state; every state when omitted'),
    ...paginationQuery.shape,
  }),
) {}

export const jobSchema = z.object({
  id: z.string(),
  queue: z.string(),
  name: z.string().describe('The job type, e.g. lead.created (an event) or demo.welcome-email'),
  state: z.string().describe('waiting | prioritized | active | delayed | failed | completed'),
  workspace_id: z.uuid().nullable(),
  request_id: z.string().nullable().describe('The request that caused the job (also in its log lines)'),
  payload: z.unknown(),
  attempts_made: z.number().int(),
  attempts_max: z.number().int(),
  last_error: z.string().nullable(),
  created_at: z.iso.datetime(),
  run_at: z.iso.datetime().describe('When the job becomes (or became) runnable: created_at + delay'),
  processed_at: z.iso.datetime().nullable(),
  finished_at: z.iso.datetime().nullable(),
});
export type JobView = z.infer<typeof jobSchema>;

export class JobDto extends createZodDto(jobSchema) {}
export class JobPageDto extends createZodDto(z.object({ data: z.array(jobSchema), next_cursor: z.string().nullable() })) {}
