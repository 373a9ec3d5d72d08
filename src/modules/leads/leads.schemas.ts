import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { paginationQuery } from '../../common/http/pagination';
import {
  InvalidPhoneError,
  MAX_EMAIL_LENGTH,
  customFieldsProblems,
  hasForbiddenCharacters,
  normalizeEmail,
  normalizePhone,
  type CustomFields,
} from './lead-normalization';

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'customer', 'unsubscribed', 'bounced'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export const CONSENT_STATUSES = ['granted', 'pending', 'none'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const MAX_TAGS = 50;

/** The normalised email: trimmed, NFC, lower-cased, then validated. */
export const emailSchema = z
  .string()
  .max(MAX_EMAIL_LENGTH + 64)
  .transform(normalizeEmail)
  .pipe(z.email('Not a valid email address').max(MAX_EMAIL_LENGTH));

/** Single-line human text: NFC, trimmed, no control or bidi formatting characters (400 otherwise). */
export const safeText = (max: number) =>
  z
    .string()
    .transform((s) => s.normalize('NFC').trim())
    .pipe(z.string().max(max))
    .refine((s) => !hasForbiddenCharacters(s), 'Contains control or bidirectional formatting characters');

/** Phone in any usual notation → E.164; an empty string means "no value". */
export const phoneSchema = z
  .string()
  .max(64)
  .transform((raw, ctx) => {
    if (raw.trim() === '') return '';
    try {
      return normalizePhone(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof InvalidPhoneError ? err.message : 'Not a phone number' });
      return z.NEVER;
    }
  });

export const tagSchema = safeText(64).pipe(z.string().min(1));
export const tagsSchema = z
  .array(tagSchema)
  .max(MAX_TAGS)
  .transform((tags) => [...new Set(tags)]);

export const customFieldsSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .superRefine((fields, ctx) => {
    for (const message of customFieldsProblems(fields)) ctx.addIssue({ code: 'custom', message });
  })
  .transform((f) => f as CustomFields);

export const utmFields = {
  utm_source: safeText(200).optional(),
  utm_medium: safeText(200).optional(),
  utm_campaign: safeText(200).optional(),
  utm_term: safeText(200).optional(),
  utm_content: safeText(500).optional(),
};

export const consentInputSchema = z.strictObject({
  status: z.enum(CONSENT_STATUSES),
  /** The exact wording the person agreed to (kept as evidence). */
  wording: safeText(2000).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
});
export type ConsentInput = z.infer<typeof consentInputSchema>;

/** Everything a lead can be created or merged with (API, capture, import, provider payloads). */
export const leadFieldsShape = {
  email: emailSchema,
  first_name: safeText(200).nullish(),
  last_name: safeText(200).nullish(),
  phone: phoneSchema.nullish(),
  company: safeText(200).nullish(),
  source: safeText(100).nullish(),
  tags: tagsSchema.optional(),
  custom_fields: customFieldsSchema.optional(),
  consent: consentInputSchema.optional(),
  ...utmFields,
};
export const leadInputSchema = z.strictObject(leadFieldsShape);
export type LeadInput = z.infer<typeof leadInputSchema>;

export const leadPatchSchema = z
  .strictObject({
    first_name: safeText(200).nullable().optional(),
    last_name: safeText(200).nullable().optional(),
    phone: phoneSchema.nullable().optional(),
    company: safeText(200).nullable().optional(),
    source: safeText(100).nullable().optional(),
    status: z.enum(LEAD_STATUSES).optional(),
    tags: tagsSchema.optional(),
    custom_fields: customFieldsSchema.optional(),
    consent: consentInputSchema.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'Nothing to update');
export type LeadPatch = z.infer<typeof leadPatchSchema>;

export const leadListQuerySchema = paginationQuery.extend({
  status: z.enum(LEAD_STATUSES).optional(),
  source: z.string().max(100).optional(),
  tag: z.string().max(64).optional(),
  campaign: z.uuid().optional(),
  created_from: z.iso.datetime({ offset: true }).optional(),
  created_to: z.iso.datetime({ offset: true }).optional(),
  q: z.string().trim().min(1).max(200).optional(),
});
export type LeadListQuery = z.infer<typeof leadListQuerySchema>;

// ---- DTOs (nestjs-zod) and response shapes ---------------------------------------------------

export class CreateLeadDto extends createZodDto(leadInputSchema) {}
export class PatchLeadDto extends createZodDto(leadPatchSchema) {}
export class ListLeadsQueryDto extends createZodDto(leadListQuerySchema) {}

export const utmSchema = z.object({
  utm_source: z.string().optional(),
  utm_medium: z.string().optional(),
  utm_campaign: z.string().optional(),
  utm_term: z.string().optional(),
  utm_content: z.string().optional(),
});

export const leadViewSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  phone: z.string().nullable().describe('E.164'),
  company: z.string().nullable(),
  source: z.string().nullable(),
  status: z.enum(LEAD_STATUSES),
  tags: z.array(z.string()),
  custom_fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  consent: z.object({
    status: z.enum(CONSENT_STATUSES),
    at: z.iso.datetime().nullable(),
    ip: z.string().nullable(),
    wording: z.string().nullable(),
  }),
  utm: z.object({ first_touch: utmSchema, last_touch: utmSchema }),
  campaign_id: z.uuid().nullable(),
  possible_duplicate_of: z
    .uuid()
    .nullable()
    .describe(
      'Another lead whose address differs only by Gmail dots or a +tag: maybe the same person (never merged automatically)',
    ),
  confirmed_at: z.iso.datetime().nullable(),
  converted_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export type LeadView = z.infer<typeof leadViewSchema>;
export class LeadDto extends createZodDto(leadViewSchema) {}
export class LeadPageDto extends createZodDto(z.object({ data: z.array(leadViewSchema), next_cursor: z.string().nullable() })) {}

export const upsertResultSchema = z.object({
  result: z.enum(['created', 'merged']),
  changed_fields: z.array(z.string()).describe('For a merge: the fields that took a new value (empty when nothing changed)'),
  lead: leadViewSchema,
});
export class UpsertResultDto extends createZodDto(upsertResultSchema) {}

export const activitySchema = z.object({
  id: z.uuid(),
  type: z
    .string()
    .describe('created, merged, updated, status_changed, emailed, unsubscribed, confirmed, converted, enrolled, exited …'),
  data: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime(),
});
export class ActivityPageDto extends createZodDto(
  z.object({ data: z.array(activitySchema), next_cursor: z.string().nullable() }),
) {}

export const deleteLeadQuerySchema = z.strictObject({
  erase: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('GDPR erasure: remove personal data everywhere and keep the address suppressed'),
});
export class DeleteLeadQueryDto extends createZodDto(deleteLeadQuerySchema) {}

export const exportQuerySchema = leadListQuerySchema.omit({ limit: true, cursor: true });
export class ExportLeadsQueryDto extends createZodDto(exportQuerySchema) {}
