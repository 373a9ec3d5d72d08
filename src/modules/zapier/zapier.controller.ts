import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../auth/auth-context';
import { IdParam } from '../../auth/id-param';
import { Access } from '../../common/decorators/access.decorator';
import { HookDto, MeDto, SampleEventParamDto, SampleListDto, SubscribeHookDto } from './zapier.schemas';
import { ZapierService } from './zapier.service';

@ApiTags('zapier')
@Controller('zapier')
export class ZapierController {
  constructor(private readonly zapier: ZapierService) {}

  @Access('webhooks:manage')
  @Post('hooks')
  @ApiOperation({ summary: 'Subscribe a Zap (REST hook): Zapier calls this when the Zap is turned on' })
  @ApiResponse({ status: 201, type: HookDto })
  subscribe(@Auth() auth: AuthContext, @Body() body: SubscribeHookDto) {
    return this.zapier.subscribe(auth.workspaceId, body.target_url, body.event);
  }

  @Access('webhooks:manage')
  @Delete('hooks/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unsubscribe a Zap: Zapier calls this when the Zap is turned off' })
  @ApiNoContentResponse()
  async unsubscribe(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    await this.zapier.unsubscribe(auth.workspaceId, id);
  }

  @Access('webhooks:manage')
  @Get('samples/:event')
  @ApiOperation({ summary: 'Sample events for the Zap editor (performList): a list shaped like the hook payload' })
  @ApiOkResponse({ type: SampleListDto })
  samples(@Auth() auth: AuthContext, @Param() params: SampleEventParamDto) {
    return this.zapier.samples(auth.workspaceId, params.event);
  }
}

@ApiTags('zapier')
@Controller('me')
export class MeController {
  constructor(private readonly zapier: ZapierService) {}

  @Access()
  @Get()
  @ApiOperation({ summary: 'Connection test (Zapier): who the credential is; 401 when it is not valid' })
  @ApiOkResponse({ type: MeDto })
  me(@Auth() auth: AuthContext) {
    return this.zapier.me(auth);
  }
}
