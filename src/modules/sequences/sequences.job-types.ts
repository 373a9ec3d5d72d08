import { z } from 'zod';
import { defineJob } from '../../jobs/job-definition';

/** One step of one enrolment (job id `seq-<enrolment>-<step>`; delayed by the step's delay). */
export const sequenceStepJob = defineJob({
  name: 'sequences.step',
  queue: 'email',
  schema: z.strictObject({ enrolment_id: z.uuid(), step: z.number().int().min(0) }),
  description: 'Sends one sequence step to one lead (re-checked at send time) and schedules the next',
  options: { attempts: 8, backoff: { type: 'exponential', delay: 5000 } },
});

/** Every minute: re-schedules active enrolments whose step is overdue (lost enqueue, resumed sequence). */
export const sequenceSweepJob = defineJob({
  name: 'sequences.sweep',
  queue: 'email',
  schema: z.object({}),
  description: 'Re-schedules overdue sequence steps (self-healing after a lost enqueue or a paused sequence)',
  schedule: { every: 60_000 },
  options: { attempts: 1 },
});

export const SEQUENCE_JOBS = [sequenceStepJob, sequenceSweepJob];
