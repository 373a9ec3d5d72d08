import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { paginationQuery } from '../../../common/http/pagination';
import { INBOUND_STATUSES, WEBHOOK_PROVIDERS } from '../../../db/schema/webhooks';

export class InboundEventsQueryDto extends createZodDto(
  paginationQuery.extend({
    source_id: z.uuid().optional(),
    provider: z.enum(WEBHOOK_PROVIDERS).optional(),
    type: z.string().max(255).optional(),
    status: z.enum(INBOUND_STATUSES).optional(),
    received_from: z.iso.datetime({ offset: true }).optional(),
    received_to: z.iso.datetime({ offset: true }).optional(),
  }),
) {}

export const inboundEventSchema = z.object({
  id: z.uuid(),
  source_id: z.uuid().nullable().describe('null for the seed route /webhooks/stripe'),
  provider: z.enum(WEBHOOK_PROVIDERS),
  provider_event_id: z.string(),
  type: z.string(),
  status: z.enum(INBOUND_STATUSES),
  outcome: z.string().nullable().describe('What processing did, e.g. lead_converted, no_handler'),
  attempts: z.number().int(),
  replay_count: z.number().int(),
  last_error: z.string().nullable(),
  received_at: z.iso.datetime(),
  processed_at: z.iso.datetime().nullable(),
  headers: z.record(z.string(), z.string()),
  payload: z.unknown(),
});

export class InboundEventDto extends createZodDto(inboundEventSchema) {}
export class InboundEventPageDto extends createZodDto(
  z.object({ data: z.array(inboundEventSchema), next_cursor: z.string().nullable() }),
) {}
export class ReceiveResultDto extends createZodDto(
  z.object({
    received: z.number().int().describe('Events in the request'),
    duplicates: z.number().int().describe('Of which were already stored (acknowledged, not processed again)'),
    event_ids: z.array(z.string()),
  }),
) {}
