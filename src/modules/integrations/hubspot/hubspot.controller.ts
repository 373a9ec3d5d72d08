import { Body, Controller, Delete, Get, HttpCode, Patch, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { Auth, type AuthContext } from '../../../auth/auth-context';
import { Access } from '../../../common/decorators/access.decorator';
import { HubSpotService } from './hubspot.service';

class ConnectHubSpotDto extends createZodDto(
  z.strictObject({
    private_app_token: z
      .string()
      .trim()
      .min(10)
      .max(500)
      .regex(/^[\x21-\x7e]+$/, 'printable characters only')
      .describe('HubSpot private-app token with crm.objects.contacts.write; stored encrypted, never returned'),
    enabled: z.boolean().default(true),
  }),
) {}
class PatchHubSpotDto extends createZodDto(z.strictObject({ enabled: z.boolean() })) {}
class HubSpotStatusDto extends createZodDto(
  z.object({
    connected: z.boolean(),
    enabled: z.boolean(),
    last_sync_at: z.iso.datetime().nullable(),
    last_error: z.string().nullable(),
    pending: z.number().int().describe('Leads waiting to be synced'),
    created_at: z.iso.datetime().nullable(),
    updated_at: z.iso.datetime().nullable(),
  }),
) {}

@ApiTags('integrations')
@Controller('integrations/hubspot')
export class HubSpotController {
  constructor(private readonly hubspot: HubSpotService) {}

  @Access('webhooks:manage')
  @Get()
  @ApiOperation({ summary: 'HubSpot connection status (never the token)' })
  @ApiOkResponse({ type: HubSpotStatusDto })
  status(@Auth() auth: AuthContext) {
    return this.hubspot.status(auth.workspaceId);
  }

  @Access('webhooks:manage')
  @Put()
  @ApiOperation({
    summary: 'Connect HubSpot with a private-app token (replaces the previous one)',
    description: 'Lead events (created, updated, converted, unsubscribed) are then upserted to HubSpot contacts by email.',
  })
  @ApiOkResponse({ type: HubSpotStatusDto })
  connect(@Auth() auth: AuthContext, @Body() body: ConnectHubSpotDto) {
    return this.hubspot.connect(auth.workspaceId, body.private_app_token, body.enabled);
  }

  @Access('webhooks:manage')
  @Patch()
  @ApiOperation({ summary: 'Pause or resume the HubSpot sync' })
  @ApiOkResponse({ type: HubSpotStatusDto })
  patch(@Auth() auth: AuthContext, @Body() body: PatchHubSpotDto) {
    return this.hubspot.setEnabled(auth.workspaceId, body.enabled);
  }

  @Access('webhooks:manage')
  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Disconnect HubSpot (the token and pending syncs are deleted)' })
  @ApiNoContentResponse()
  async disconnect(@Auth() auth: AuthContext) {
    await this.hubspot.disconnect(auth.workspaceId);
  }
}
