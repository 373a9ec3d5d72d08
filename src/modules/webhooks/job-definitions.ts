import { z } from 'zod';
import { defineJob } from '../../jobs/job-definition';

/** Processes one stored inbound event (its effect handler runs in a transaction). */
export const inboundProcessJob = defineJob({
  name: 'webhooks.inbound-process',
  queue: 'webhooks',
  schema: z.strictObject({ inbound_event_id: z.uuid() }),
  description: 'Applies the effects of one verified inbound webhook event (exactly once per event)',
  options: { attempts: 8, backoff: { type: 'exponential', delay: 2_000 } },
});

/**
 * One delivery attempt of an outbound message. The HTTP retry schedule (Svix's) is ours: a failed
 * attempt schedules the next one as a new delayed job. The job's own attempts only cover
 * infrastructure errors (database away) around the attempt.
 */
export const deliverJob = defineJob({
  name: 'webhooks.deliver',
  queue: 'webhooks',
  schema: z.strictObject({
    message_id: z.uuid(),
    attempt: z.number().int().min(1).max(10_000),
    trigger: z.enum(['scheduled', 'resend', 'recover', 'test']),
  }),
  description: 'Sends one signed delivery attempt of an outbound webhook message and schedules the next on failure',
  options: { attempts: 5, backoff: { type: 'exponential', delay: 2_000 } },
});

/** Hands the queue what it may have missed (an enqueue lost while Redis was away, a killed worker). */
export const sweepJob = defineJob({
  name: 'webhooks.sweep',
  queue: 'webhooks',
  schema: z.strictObject({}),
  description: 'Re-enqueues inbound events still waiting and outbound messages past due whose job was lost',
  schedule: { every: 30_000 },
  options: { attempts: 1 },
});

export const WEBHOOK_JOBS = [inboundProcessJob, deliverJob, sweepJob];

/** BullMQ job ids (no `:`, not integer-like): deterministic, so an enqueue repeated is a no-op. */
export const inboundJobId = (id: string, replay: number) => `wh-in-${id}-r${replay}`;
export const deliverJobId = (messageId: string, attempt: number, suffix = '') => `wh-msg-${messageId}-a${attempt}${suffix}`;
