import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { MESSAGE_STATUSES } from '../../../db/schema/webhooks';
import { paginationQuery } from '../../../common/http/pagination';
import { OUTBOUND_EVENT_TYPES } from './event-types';
import { isEndpointSecret } from './signing';

const eventTypes = z
  .array(z.string().min(1).max(100))
  .min(1)
  .max(100)
  .superRefine((list, ctx) => {
    if (list.includes('*') && list.length > 1)
      ctx.addIssue({ code: 'custom', message: '"*" stands alone: it already means every event' });
    list.forEach((t, i) => {
      if (t !== '*' && !OUTBOUND_EVENT_TYPES.includes(t))
        ctx.addIssue({ code: 'custom', path: [i], message: `Unknown event type "${t}"; see GET /api/v1/webhooks/event-types` });
    });
  })
  .transform((list) => [...new Set(list)])
  .describe('Event types from the catalogue, or ["*"] for every event');

const endpointSecret = z
  .string()
  .refine(isEndpointSecret, 'must be whsec_ followed by 24–64 base64-encoded random bytes')
  .describe('Bring your own signing secret (whsec_…); omitted = one is generated');

const rateLimit = z
  .number()
  .int()
  .min(1)
  .max(10_000)
  .nullable()
  .describe('Deliveries per second to this endpoint; null = no limit');

export class CreateEndpointDto extends createZodDto(
  z.strictObject({
    url: z.string().max(2048).describe('http(s) URL; private, loopback and link-local addresses are refused'),
    description: z.string().max(500).default(''),
    event_types: eventTypes,
    enabled: z.boolean().default(true),
    rate_limit_per_second: rateLimit.optional(),
    secret: endpointSecret.optional(),
  }),
) {}

export class UpdateEndpointDto extends createZodDto(
  z.strictObject({
    url: z.string().max(2048).optional(),
    description: z.string().max(500).optional(),
    event_types: eventTypes.optional(),
    enabled: z.boolean().optional().describe('true re-enables an endpoint disabled after failures or a 410'),
    rate_limit_per_second: rateLimit.optional(),
  }),
) {}

export class RotateSecretDto extends createZodDto(z.strictObject({ secret: endpointSecret.optional() })) {}

export class RecoverDto extends createZodDto(
  z.strictObject({
    since: z.iso
      .datetime({ offset: true })
      .describe('Messages created at or after this time that did not get through are sent again'),
  }),
) {}

export class TestEndpointDto extends createZodDto(
  z.strictObject({
    event_type: z
      .string()
      .max(100)
      .optional()
      .describe('Catalogue type whose sample payload is sent (default: webhook.test, a ping)'),
  }),
) {}

export const endpointSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string(),
  event_types: z.array(z.string()),
  enabled: z.boolean(),
  disabled_reason: z.enum(['gone', 'failing', 'manual']).nullable(),
  disabled_at: z.iso.datetime().nullable(),
  rate_limit_per_second: z.number().int().nullable(),
  failing_since: z.iso.datetime().nullable(),
  secrets: z
    .array(z.object({ hint: z.string(), created_at: z.iso.datetime(), expires_at: z.iso.datetime().nullable() }))
    .describe('Signing secrets in use (the last 4 characters only); two while a rotation overlaps'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

export class EndpointDto extends createZodDto(endpointSchema) {}
export class CreatedEndpointDto extends createZodDto(
  endpointSchema.extend({ secret: z.string().describe('The whsec_ signing secret: shown once, store it now') }),
) {}
export class EndpointPageDto extends createZodDto(
  z.object({ data: z.array(endpointSchema), next_cursor: z.string().nullable() }),
) {}
export class RotatedSecretDto extends createZodDto(
  z.object({
    secret: z.string().describe('The new whsec_ secret: shown once'),
    previous_secret_expires_at: z.iso
      .datetime()
      .nullable()
      .describe('The old secret keeps signing (a second signature) until then'),
  }),
) {}

export const attemptSchema = z.object({
  id: z.uuid(),
  attempt: z.number().int(),
  trigger: z.string(),
  url: z.string(),
  status_code: z.number().int().nullable(),
  ok: z.boolean(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  response_headers: z.record(z.string(), z.string()),
  response_body: z.string().describe('The first 4 KB of the answer'),
  response_truncated: z.boolean(),
  duration_ms: z.number().int(),
  created_at: z.iso.datetime(),
});

export const deliverySchema = z.object({
  id: z.uuid().describe('Also the webhook-id header of every attempt'),
  endpoint_id: z.uuid(),
  event_id: z.uuid().nullable(),
  event_type: z.string(),
  status: z.enum(MESSAGE_STATUSES),
  attempts: z.number().int(),
  next_attempt_at: z.iso.datetime().nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  succeeded_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
});

export class DeliveryDto extends createZodDto(deliverySchema) {}
export class DeliveryDetailDto extends createZodDto(
  deliverySchema.extend({ payload: z.unknown().describe('The exact JSON body sent'), attempt_log: z.array(attemptSchema) }),
) {}
export class DeliveryPageDto extends createZodDto(
  z.object({ data: z.array(deliverySchema), next_cursor: z.string().nullable() }),
) {}
export class TestResultDto extends createZodDto(z.object({ delivery: deliverySchema, attempt: attemptSchema.nullable() })) {}
export class RecoverResultDto extends createZodDto(z.object({ recovered: z.number().int() })) {}

export class DeliveriesQueryDto extends createZodDto(
  paginationQuery.extend({
    status: z.enum(MESSAGE_STATUSES).optional(),
    event_type: z.string().max(100).optional(),
  }),
) {}
