import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../../auth/auth-context';
import { IdParam } from '../../../auth/id-param';
import { Access } from '../../../common/decorators/access.decorator';
import {
  ConnectionDto,
  ConnectionPageDto,
  CreateConnectionDto,
  DeleteConnectionQueryDto,
  PageQueryDto,
  PatchConnectionDto,
  RunDto,
  RunPageDto,
  SyncRequestDto,
} from '../analytics.schemas';
import { ConnectionsService } from './connections.service';

@ApiTags('analytics')
@Controller('analytics/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Access('analytics:manage')
  @Post()
  @ApiOperation({
    summary: 'Connect a GA4 property, Meta ad account or LinkedIn ad account',
    description:
      'Credentials are encrypted at rest (AES-256-GCM with ENCRYPTION_KEY; the key id is stored for rotation) and never ' +
      'returned. Access tokens are refreshed against the provider’s OAuth token endpoint when they expire. A periodic ' +
      'sync is scheduled (default hourly, cron in UTC). 409 when the account is already connected.',
  })
  @ApiResponse({ status: 201, type: ConnectionDto })
  create(@Auth() auth: AuthContext, @Body() body: CreateConnectionDto) {
    return this.connections.create(auth.workspaceId, body);
  }

  @Access('analytics:read')
  @Get()
  @ApiOperation({ summary: 'List analytics connections, newest first' })
  @ApiOkResponse({ type: ConnectionPageDto })
  list(@Auth() auth: AuthContext, @Query() query: PageQueryDto) {
    return this.connections.list(auth.workspaceId, query.limit, query.cursor);
  }

  @Access('analytics:read')
  @Get(':id')
  @ApiOperation({ summary: 'One connection: account, schedule, last sync (never its credentials)' })
  @ApiOkResponse({ type: ConnectionDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.connections.get(auth.workspaceId, id);
  }

  @Access('analytics:manage')
  @Patch(':id')
  @ApiOperation({ summary: 'Rename, reschedule, enable/disable, or replace the credentials of a connection' })
  @ApiOkResponse({ type: ConnectionDto })
  patch(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: PatchConnectionDto) {
    return this.connections.update(auth.workspaceId, id, body);
  }

  @Access('analytics:manage')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Disconnect an account and stop its schedule',
    description: 'Synced metrics are kept unless `purge_metrics=true`.',
  })
  @ApiNoContentResponse()
  async remove(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Query() query: DeleteConnectionQueryDto) {
    await this.connections.remove(auth.workspaceId, id, query.purge_metrics);
  }

  @Access('analytics:manage')
  @Post(':id/sync')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Sync now: incremental, or a backfill of {from, to}',
    description:
      'Records a queued run and hands it to the job engine. Without a range the sync is incremental (the provider’s ' +
      'lookback window included); with one it re-fetches exactly those days. 409 while a sync of the connection runs.',
  })
  @ApiResponse({ status: 202, type: RunDto })
  sync(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: SyncRequestDto) {
    return this.connections.requestSync(
      auth.workspaceId,
      id,
      body.from && body.to ? { from: body.from, to: body.to } : undefined,
    );
  }

  @Access('analytics:read')
  @Get(':id/runs')
  @ApiOperation({ summary: 'Sync runs of a connection, newest first: status, range, rows, duration, error' })
  @ApiOkResponse({ type: RunPageDto })
  runs(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Query() query: PageQueryDto) {
    return this.connections.listRuns(auth.workspaceId, id, query.limit, query.cursor);
  }
}
