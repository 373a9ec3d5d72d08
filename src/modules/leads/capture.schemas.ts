import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { CUSTOM_FIELD_KEY } from './lead-normalization';
import { customFieldsSchema, leadFieldsShape, safeText, tagSchema, MAX_TAGS } from './leads.schemas';

/** The honeypot field: hidden in the form, left empty by people, filled by bots. */
export const HONEYPOT_FIELD = '_hp';

const truthy = z
  .union([z.boolean(), z.enum(['on', 'true', '1', 'yes', 'false', '0', 'no', ''])])
  .transform((v) => v === true || v === 'on' || v === 'true' || v === '1' || v === 'yes');

/** Tags from JSON (array) or a form (comma-separated string, or a repeated field). */
const captureTags = z
  .union([z.array(tagSchema), z.string().max(2000)])
  .transform((v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : v,
  )
  .pipe(z.array(tagSchema).max(MAX_TAGS))
  .transform((tags) => [...new Set(tags)]);

const { consent: _consent, tags: _tags, custom_fields: _custom, ...fields } = leadFieldsShape;

/**
 * A capture post (JSON or an HTML form). Besides the lead fields: `consent` (checkbox) and
 * `consent_wording` (the text next to it), the honeypot `_hp`, the publishable `key` for forms
 * that cannot send headers, and `custom.<key>` form fields that land in custom fields.
 * Anything else is refused with 400, like every other route.
 */
export const captureBodySchema = z
  .object({
    ...fields,
    tags: captureTags.optional(),
    custom_fields: customFieldsSchema.optional(),
    consent: truthy.optional(),
    consent_wording: safeText(2000).optional(),
    [HONEYPOT_FIELD]: z.string().max(1000).optional(),
    key: z.string().max(200).optional(),
  })
  .catchall(z.unknown())
  .superRefine((body, ctx) => {
    for (const k of Object.keys(body)) {
      if (k in captureShapeKeys) continue;
      if (k.startsWith('custom.') && CUSTOM_FIELD_KEY.test(k.slice(7))) continue;
      ctx.addIssue({ code: 'unrecognized_keys', keys: [k], path: [], message: `Unrecognized key: "${k}"` });
    }
  });
const captureShapeKeys: Record<string, true> = Object.fromEntries(
  [...Object.keys(fields), 'tags', 'custom_fields', 'consent', 'consent_wording', HONEYPOT_FIELD, 'key'].map((k) => [k, true]),
);
export type CaptureBody = z.infer<typeof captureBodySchema>;

export class CaptureBodyDto extends createZodDto(captureBodySchema) {}

export const captureAcceptedSchema = z.object({
  status: z.literal('accepted'),
  request_id: z.string(),
});
export class CaptureAcceptedDto extends createZodDto(captureAcceptedSchema) {}

export const captureSettingsSchema = z.object({
  double_opt_in: z.boolean().describe('New captured leads stay `pending` and get no marketing email until they confirm by email'),
  confirmation_redirect_url: z
    .url()
    .nullable()
    .describe('Where the confirmation link lands after confirming (default: a built-in page)'),
});
export class CaptureSettingsDto extends createZodDto(captureSettingsSchema) {}
export class PatchCaptureSettingsDto extends createZodDto(
  z.strictObject({
    double_opt_in: z.boolean().optional(),
    confirmation_redirect_url: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .nullable()
      .optional(),
  }),
) {}

export const tokenQuerySchema = z.object({ token: z.string().min(10).max(1024) });
export class TokenQueryDto extends createZodDto(tokenQuerySchema) {}
