import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { Access } from '../../common/decorators/access.decorator';
import { paginationQuery } from '../../common/http/pagination';
import { Auth, type AuthContext } from '../auth-context';
import { IdParam } from '../id-param';
import { IdempotencyRedact } from '../idempotency/idempotency.decorator';
import { ApiKeyDto, ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-keys.schemas';
import { ApiKeysService } from './api-keys.service';

class PageQueryDto extends createZodDto(paginationQuery) {}

@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Access('keys:manage')
  @Post()
  @IdempotencyRedact('key')
  @ApiOperation({
    summary: 'Create an API key; the full key is in this response only',
    description: 'An Idempotency-Key replay answers the same body without `key`: the secret is never stored or shown again.',
  })
  @ApiResponse({ status: 201, type: CreatedApiKeyDto })
  create(@Auth() auth: AuthContext, @Body() body: CreateApiKeyDto) {
    return this.keys.create(auth, body);
  }

  @Access('keys:manage')
  @Get()
  @ApiOperation({ summary: 'List active API keys (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Auth() auth: AuthContext, @Query() query: PageQueryDto) {
    return this.keys.list(auth.workspaceId, query);
  }

  @Access('keys:manage')
  @Get(':id')
  @ApiOperation({ summary: 'One API key (never its secret)' })
  @ApiOkResponse({ type: ApiKeyDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.keys.get(auth.workspaceId, id);
  }

  @Access('keys:manage')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (it answers 401 from now on)' })
  @ApiNoContentResponse()
  async revoke(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    await this.keys.revoke(auth.workspaceId, id);
  }
}
