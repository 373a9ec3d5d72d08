import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../auth/auth-context';
import { IdParam } from '../../auth/id-param';
import { Access } from '../../common/decorators/access.decorator';
import {
  CreateTemplateDto,
  ListTemplatesQueryDto,
  PatchTemplateDto,
  PreviewDto,
  PreviewResultDto,
  TemplateDto,
  TemplatePageDto,
} from './email-templates.schemas';
import { EmailTemplatesService } from './email-templates.service';

@ApiTags('email')
@Controller('email-templates')
export class EmailTemplatesController {
  constructor(private readonly templates: EmailTemplatesService) {}

  @Access('campaigns:write')
  @Post()
  @ApiOperation({
    summary: 'Create an email template',
    description:
      'Variables: {{lead.email}}, {{lead.first_name}}, {{lead.last_name}}, {{lead.full_name}}, {{lead.company}}, ' +
      '{{lead.phone}}, {{lead.source}}, {{lead.custom.<key>}}, {{campaign.name}}, {{workspace.name}}, {{unsubscribe_url}}; ' +
      'sections {{#lead.company}}…{{/lead.company}} and {{^…}} over them. Unknown variables, {{{unescaped}}} output and ' +
      'partials are refused (400). An unsubscribe footer is added to a part that does not use {{unsubscribe_url}}.',
  })
  @ApiResponse({ status: 201, type: TemplateDto })
  create(@Auth() auth: AuthContext, @Body() body: CreateTemplateDto) {
    return this.templates.create(auth.workspaceId, body);
  }

  @Access('campaigns:read')
  @Get()
  @ApiOperation({ summary: 'List email templates, newest first' })
  @ApiOkResponse({ type: TemplatePageDto })
  list(@Auth() auth: AuthContext, @Query() query: ListTemplatesQueryDto) {
    return this.templates.list(auth.workspaceId, query);
  }

  @Access('campaigns:read')
  @Get(':id')
  @ApiOperation({ summary: 'One email template' })
  @ApiOkResponse({ type: TemplateDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.templates.get(auth.workspaceId, id);
  }

  @Access('campaigns:write')
  @Patch(':id')
  @ApiOperation({ summary: 'Update an email template (validated like create)' })
  @ApiOkResponse({ type: TemplateDto })
  patch(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: PatchTemplateDto) {
    return this.templates.patch(auth.workspaceId, id, body);
  }

  @Access('campaigns:write')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an email template (409 while a sequence step uses it)' })
  @ApiNoContentResponse()
  async remove(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    await this.templates.remove(auth.workspaceId, id);
  }

  @Access('campaigns:read')
  @Post(':id/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Render the template for a lead or a sample (nothing is sent)' })
  @ApiOkResponse({ type: PreviewResultDto })
  preview(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: PreviewDto) {
    return this.templates.preview(auth.workspaceId, id, body);
  }
}
