import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { paginationQuery } from '../../common/http/pagination';
import { SEQUENCE_STATUSES, ENROLMENT_STATUSES } from '../../db/schema/sequences';
import { safeText, tagSchema } from '../leads/leads.schemas';

export const MAX_STEPS = 50;
export const MAX_DELAY_SECONDS = 365 * 24 * 3600;

export const triggerSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('lead_captured'),
      source: z.string().max(100).optional().describe('Only leads with this `source`'),
      tag: tagSchema.optional().describe('Only leads carrying this tag'),
      campaign_id: z.uuid().optional().describe('Only leads attributed to this campaign'),
      channels: z
        .array(z.enum(['capture', 'api', 'import']))
        .min(1)
        .optional()
        .describe('How the lead arrived; default capture and api (imports do not start sequences unless listed)'),
    })
    .describe('A new lead (with the filters)'),
  z.strictObject({ type: z.literal('tag_added'), tag: tagSchema }).describe('A lead gets this tag (on create or later)'),
  z.strictObject({ type: z.literal('manual') }).describe('Only POST /sequences/{id}/enrolments'),
]);
export type SequenceTrigger = z.infer<typeof triggerSchema>;

export const stepSchema = z.strictObject({
  delay_seconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_DELAY_SECONDS)
    .describe('Wait after the previous step (or after enrolment for the first); 0 = at once'),
  template_id: z.uuid(),
});

export const createSequenceSchema = z.strictObject({
  name: safeText(200).pipe(z.string().min(1)),
  status: z.enum(SEQUENCE_STATUSES).default('active'),
  trigger: triggerSchema,
  campaign_id: z.uuid().nullable().optional().describe('Sends count for this campaign in its stats'),
  steps: z.array(stepSchema).min(1).max(MAX_STEPS),
});
export class CreateSequenceDto extends createZodDto(createSequenceSchema) {}

export const patchSequenceSchema = z
  .strictObject({
    name: safeText(200).pipe(z.string().min(1)).optional(),
    status: z.enum(SEQUENCE_STATUSES).optional(),
    trigger: triggerSchema.optional(),
    campaign_id: z.uuid().nullable().optional(),
    steps: z
      .array(stepSchema)
      .min(1)
      .max(MAX_STEPS)
      .optional()
      .describe('Replaces all steps; running enrolments continue by position'),
  })
  .refine((p) => Object.keys(p).length > 0, 'Nothing to update');
export class PatchSequenceDto extends createZodDto(patchSequenceSchema) {}

export class ListSequencesQueryDto extends createZodDto(paginationQuery) {}

export const sequenceViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  status: z.enum(SEQUENCE_STATUSES),
  trigger: z.record(z.string(), z.unknown()),
  campaign_id: z.uuid().nullable(),
  steps: z.array(z.object({ position: z.number().int(), delay_seconds: z.number().int(), template_id: z.uuid() })),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export class SequenceDto extends createZodDto(sequenceViewSchema) {}
export class SequencePageDto extends createZodDto(
  z.object({ data: z.array(sequenceViewSchema), next_cursor: z.string().nullable() }),
) {}

export class EnrolDto extends createZodDto(z.strictObject({ lead_id: z.uuid() })) {}

export const enrolmentViewSchema = z.object({
  id: z.uuid(),
  sequence_id: z.uuid(),
  lead_id: z.uuid(),
  status: z.enum(ENROLMENT_STATUSES),
  exit_reason: z.string().nullable(),
  next_step: z.number().int(),
  next_run_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export class EnrolmentDto extends createZodDto(enrolmentViewSchema) {}
export class EnrolmentPageDto extends createZodDto(
  z.object({ data: z.array(enrolmentViewSchema), next_cursor: z.string().nullable() }),
) {}
