import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { emailSchema, roleSchema } from '../../auth/auth.schemas';

export class AddMemberDto extends createZodDto(
  z.strictObject({ email: emailSchema.describe('An existing user'), role: roleSchema.default('member') }),
) {}

export class UpdateMemberDto extends createZodDto(z.strictObject({ role: roleSchema })) {}

export const memberSchema = z.object({
  user_id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  created_at: z.iso.datetime().describe('When the user joined this workspace'),
});
export class MemberDto extends createZodDto(memberSchema) {}
export class MemberPageDto extends createZodDto(z.object({ data: z.array(memberSchema), next_cursor: z.string().nullable() })) {}
