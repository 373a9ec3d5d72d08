import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../auth/auth-context';
import { IdParam } from '../../auth/id-param';
import { Access } from '../../common/decorators/access.decorator';
import {
  CampaignDto,
  CampaignPageDto,
  CampaignStatsDto,
  CreateCampaignDto,
  ListCampaignsQueryDto,
  PatchCampaignDto,
} from './campaigns.schemas';
import { CampaignsService } from './campaigns.service';

@ApiTags('campaigns')
@Controller('campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Access('campaigns:write')
  @Post()
  @ApiOperation({
    summary: 'Create a campaign',
    description: 'Leads whose first touch carries `utm_campaign=<utm_campaign>` are attributed to it. 409 when the key is taken.',
  })
  @ApiResponse({ status: 201, type: CampaignDto })
  create(@Auth() auth: AuthContext, @Body() body: CreateCampaignDto) {
    return this.campaigns.create(auth.workspaceId, body);
  }

  @Access('campaigns:read')
  @Get()
  @ApiOperation({ summary: 'List campaigns, newest first' })
  @ApiOkResponse({ type: CampaignPageDto })
  list(@Auth() auth: AuthContext, @Query() query: ListCampaignsQueryDto) {
    return this.campaigns.list(auth.workspaceId, query);
  }

  @Access('campaigns:read')
  @Get(':id')
  @ApiOperation({ summary: 'One campaign' })
  @ApiOkResponse({ type: CampaignDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.campaigns.get(auth.workspaceId, id);
  }

  @Access('campaigns:write')
  @Patch(':id')
  @ApiOperation({ summary: 'Update a campaign (null clears budget, dates or the utm key)' })
  @ApiOkResponse({ type: CampaignDto })
  patch(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: PatchCampaignDto) {
    return this.campaigns.patch(auth.workspaceId, id, body);
  }

  @Access('campaigns:write')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a campaign (its leads and conversions stay, unattributed)' })
  @ApiNoContentResponse()
  async remove(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    await this.campaigns.remove(auth.workspaceId, id);
  }

  @Access('campaigns:read')
  @Get(':id/stats')
  @ApiOperation({ summary: 'Funnel of the campaign: leads, confirmed, emailed, unsubscribed, customers, revenue' })
  @ApiOkResponse({ type: CampaignStatsDto })
  stats(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.campaigns.stats(auth.workspaceId, id);
  }
}
