import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { SCOPES } from '../auth-context';

const origin = z
  .string()
  .max(255)
  .refine((v) => {
    if (v === '*') return true;
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === v;
    } catch {
      return false;
    }
  }, 'must be an origin like https://www.example.com (scheme, host and optional port, no path) or "*"');

export class CreateApiKeyDto extends createZodDto(
  z.strictObject({
    name: z.string().trim().min(1).max(200),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .max(SCOPES.length)
      .describe('A key whose only scope is leads:capture is publishable (sb_pk_…); leads:capture cannot be mixed with others'),
    expires_at: z.iso.datetime({ offset: true }).optional(),
    allowed_origins: z
      .array(origin)
      .max(50)
      .optional()
      .describe('Publishable keys only: browser origins allowed to use the key (CORS and the capture route)'),
  }),
) {}

export const apiKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(['secret', 'publishable']),
  prefix: z.string().describe('sb_sk_<key id> or sb_pk_<key id>: identifies the key, is not a secret'),
  scopes: z.array(z.string()),
  allowed_origins: z.array(z.string()),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime().nullable(),
  last_used_at: z.iso.datetime().nullable().describe('Updated in batches; may lag by up to 15 seconds'),
});

export class ApiKeyDto extends createZodDto(apiKeySchema) {}
export class CreatedApiKeyDto extends createZodDto(
  apiKeySchema.extend({ key: z.string().describe('The full key. Shown once, never again: store it now') }),
) {}
export class ApiKeyPageDto extends createZodDto(z.object({ data: z.array(apiKeySchema), next_cursor: z.string().nullable() })) {}
