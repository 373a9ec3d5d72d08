import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { Auth, type AuthContext } from '../../../auth/auth-context';
import { IdParam } from '../../../auth/id-param';
import { IdempotencyRedact } from '../../../auth/idempotency/idempotency.decorator';
import { Access } from '../../../common/decorators/access.decorator';
import { paginationQuery } from '../../../common/http/pagination';
import { CreateSourceDto, CreatedSourceDto, SourceDto, SourcePageDto, UpdateSourceDto } from './sources.schemas';
import { SourcesService } from './sources.service';

class PageQueryDto extends createZodDto(paginationQuery) {}

@ApiTags('webhooks')
@Controller('webhook-sources')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Access('webhooks:manage')
  @Post()
  @IdempotencyRedact('secret')
  @ApiOperation({
    summary: 'Create an inbound webhook source (Stripe, HubSpot, Zapier, Standard Webhooks or generic HMAC)',
    description: 'The answer carries the URL to give the provider. A generated secret (zapier, standard, hmac) is shown once.',
  })
  @ApiResponse({ status: 201, type: CreatedSourceDto })
  create(@Auth() auth: AuthContext, @Body() body: CreateSourceDto) {
    return this.sources.create(auth.workspaceId, body);
  }

  @Access('webhooks:manage')
  @Get()
  @ApiOperation({ summary: 'List inbound webhook sources' })
  @ApiOkResponse({ type: SourcePageDto })
  list(@Auth() auth: AuthContext, @Query() query: PageQueryDto) {
    return this.sources.list(auth.workspaceId, query);
  }

  @Access('webhooks:manage')
  @Get(':id')
  @ApiOperation({ summary: 'One inbound webhook source (secrets as hints only)' })
  @ApiOkResponse({ type: SourceDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.sources.get(auth.workspaceId, id);
  }

  @Access('webhooks:manage')
  @Patch(':id')
  @ApiOperation({ summary: 'Rename, enable/disable, change settings or rotate the secret (old one valid 24 h)' })
  @ApiOkResponse({ type: SourceDto })
  update(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: UpdateSourceDto) {
    return this.sources.update(auth.workspaceId, id, body);
  }

  @Access('webhooks:manage')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a source; its URL answers 404 from now on (stored events are kept)' })
  @ApiNoContentResponse()
  async delete(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    await this.sources.delete(auth.workspaceId, id);
  }
}
