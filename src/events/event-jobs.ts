import type { z } from 'zod';
import { defineJob, type JobDefinition } from '../jobs/job-definition';
import { EVENT_CATALOGUE, EVENT_TYPES, type EventType } from './catalogue';

/** The queue the outbox relay publishes to: one job per event, `jobId` = event id. */
export const EVENTS_QUEUE = 'events';

/** One job type per catalogue event (name = event type), all handled by the EventDispatcher. */
export const EVENT_JOBS: Readonly<Record<EventType, JobDefinition>> = Object.freeze(
  Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      defineJob<string, z.ZodType>({
        name: type,
        queue: EVENTS_QUEUE,
        schema: EVENT_CATALOGUE[type].payload,
        description: `Delivers "${type}" to its subscribers: ${EVENT_CATALOGUE[type].description}`,
      }),
    ]),
  ) as Record<EventType, JobDefinition>,
);
