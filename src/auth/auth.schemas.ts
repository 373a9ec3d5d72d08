import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords';

export const emailSchema = z.string().trim().toLowerCase().max(254).check(z.email());
/** Length is checked here, before any hashing: a 1 MB password is a fast 400. */
export const passwordSchema = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);
const nameSchema = z.string().trim().min(1).max(200);
export const roleSchema = z.enum(['owner', 'admin', 'member']);

export class RegisterDto extends createZodDto(
  z.strictObject({ email: emailSchema, password: passwordSchema, name: nameSchema, workspace_name: nameSchema }),
) {}

export class LoginDto extends createZodDto(
  // Any length up to the maximum is accepted here so a wrong-length guess gets the same 401.
  z.strictObject({ email: emailSchema, password: z.string().min(1).max(PASSWORD_MAX_LENGTH) }),
) {}

export class RefreshDto extends createZodDto(z.strictObject({ refresh_token: z.string().min(1).max(512) })) {}

export class LogoutDto extends createZodDto(z.strictObject({ refresh_token: z.string().min(1).max(512).optional() })) {}

export class SwitchWorkspaceDto extends createZodDto(z.strictObject({ workspace_id: z.uuid() })) {}

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  created_at: z.iso.datetime(),
});
export const workspaceSchema = z.object({ id: z.uuid(), name: z.string(), role: roleSchema });

export class SessionResponseDto extends createZodDto(
  z.object({
    user: userSchema,
    workspace: workspaceSchema,
    token_type: z.literal('Bearer'),
    access_token: z.string().describe('JWT (HS256), valid for expires_in seconds'),
    expires_in: z.number().int(),
    refresh_token: z.string().describe('Opaque, single use: each refresh returns a new one'),
    refresh_expires_in: z.number().int(),
  }),
) {}

export class MeResponseDto extends createZodDto(
  z.object({
    kind: z.enum(['user', 'api_key']),
    user: userSchema.nullable(),
    workspace: z.object({ id: z.uuid(), name: z.string() }),
    role: roleSchema.nullable(),
    scopes: z.array(z.string()),
    api_key_id: z.uuid().nullable(),
    workspaces: z.array(workspaceSchema).describe('Every workspace the user belongs to (empty for API keys)'),
  }),
) {}
