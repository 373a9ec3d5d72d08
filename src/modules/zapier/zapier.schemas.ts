import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { OUTBOUND_EVENT_TYPES } from '../webhooks/outbound/event-types';

const event = z
  .string()
  .max(100)
  .refine((t) => OUTBOUND_EVENT_TYPES.includes(t), 'must be a type from GET /api/v1/webhooks/event-types');

export class SubscribeHookDto extends createZodDto(
  z.strictObject({
    target_url: z.string().max(2048).describe('The URL Zapier gives for this Zap (hooks.zapier.com/…)'),
    event: event.describe('The trigger: one event type of the catalogue'),
  }),
) {}

export const hookSchema = z.object({
  id: z.uuid().describe('Store it: Zapier sends it back to unsubscribe'),
  target_url: z.string(),
  event: z.string(),
  enabled: z.boolean().describe('false once the target answered 410 (the Zap was turned off)'),
  created_at: z.iso.datetime(),
});
export class HookDto extends createZodDto(hookSchema) {}

export class SampleEventParamDto extends createZodDto(z.strictObject({ event })) {}

export const sampleSchema = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: z.string(),
  workspace_id: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export class SampleListDto extends createZodDto(z.array(sampleSchema)) {}

export class MeDto extends createZodDto(
  z.object({
    workspace_id: z.uuid(),
    kind: z.enum(['user', 'api_key']),
    user_id: z.uuid().nullable(),
    api_key_id: z.uuid().nullable(),
    scopes: z.array(z.string()),
    label: z.string().describe('What Zapier shows for the connection'),
  }),
) {}
