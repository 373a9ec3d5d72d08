import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { paginationQuery } from '../../common/http/pagination';
import { safeText } from '../leads/leads.schemas';

const MAX_BODY = 256 * 1024;

export const createTemplateSchema = z.strictObject({
  name: safeText(200).pipe(z.string().min(1)),
  subject: z.string().min(1).max(500).describe('Plain text; variables like {{lead.first_name}} allowed'),
  html: z.string().min(1).max(MAX_BODY).describe('HTML; every variable is HTML-escaped'),
  text: z.string().min(1).max(MAX_BODY).describe('Plain-text alternative'),
});
export class CreateTemplateDto extends createZodDto(createTemplateSchema) {}

export const patchTemplateSchema = createTemplateSchema.partial().refine((p) => Object.keys(p).length > 0, 'Nothing to update');
export class PatchTemplateDto extends createZodDto(patchTemplateSchema) {}

export class ListTemplatesQueryDto extends createZodDto(paginationQuery) {}

export const templateViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  subject: z.string(),
  html: z.string(),
  text: z.string(),
  variables: z.array(z.string()).describe('Variables the template uses'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export class TemplateDto extends createZodDto(templateViewSchema) {}
export class TemplatePageDto extends createZodDto(
  z.object({ data: z.array(templateViewSchema), next_cursor: z.string().nullable() }),
) {}

export const previewSchema = z.strictObject({
  lead_id: z.uuid().optional().describe('Render for this lead; otherwise for `sample` (or a built-in sample lead)'),
  sample: z
    .strictObject({
      email: z.string().max(254).optional(),
      first_name: z.string().max(200).optional(),
      last_name: z.string().max(200).optional(),
      company: z.string().max(200).optional(),
      phone: z.string().max(64).optional(),
      source: z.string().max(100).optional(),
      custom_fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    })
    .optional(),
});
export class PreviewDto extends createZodDto(previewSchema) {}
export class PreviewResultDto extends createZodDto(z.object({ subject: z.string(), html: z.string(), text: z.string() })) {}
