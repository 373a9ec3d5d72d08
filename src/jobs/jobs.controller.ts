import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { Access } from '../common/decorators/access.decorator';
import { JobsAdminService } from './jobs-admin.service';
import { JobDto, JobPageDto, ListJobsQueryDto } from './jobs.schemas';

const queueParam = ApiParam({ name: 'queue', description: 'Queue name, e.g. events or default' });
const idParam = ApiParam({ name: 'id', description: 'Job id (for event jobs: the event id)' });

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly admin: JobsAdminService) {}

  @Access('jobs:manage')
  @Get()
  @ApiOperation({ summary: "List the workspace's jobs by queue and state (newest first within a state)" })
  @ApiOkResponse({ type: JobPageDto })
  list(@Auth() auth: AuthContext, @Query() query: ListJobsQueryDto) {
    return this.admin.list(auth.workspaceId, query);
  }

  @Access('jobs:manage')
  @Get(':queue/:id')
  @queueParam
  @idParam
  @ApiOperation({ summary: 'One job: payload, state, attempts, last error, timestamps' })
  @ApiOkResponse({ type: JobDto })
  @ApiResponse({ status: 404, description: 'No such job in this workspace' })
  get(@Auth() auth: AuthContext, @Param('queue') queue: string, @Param('id') id: string) {
    return this.admin.get(auth.workspaceId, queue, id);
  }

  @Access('jobs:manage')
  @Post(':queue/:id/retry')
  @HttpCode(200)
  @queueParam
  @idParam
  @ApiOperation({ summary: 'Run a failed job again, with a fresh set of attempts' })
  @ApiOkResponse({ type: JobDto })
  @ApiResponse({ status: 409, description: 'The job is not in the failed state' })
  retry(@Auth() auth: AuthContext, @Param('queue') queue: string, @Param('id') id: string) {
    return this.admin.retry(auth.workspaceId, queue, id);
  }

  @Access('jobs:manage')
  @Delete(':queue/:id')
  @HttpCode(204)
  @queueParam
  @idParam
  @ApiOperation({ summary: 'Delete a job that is not running' })
  @ApiNoContentResponse()
  @ApiResponse({ status: 409, description: 'The job is running' })
  async remove(@Auth() auth: AuthContext, @Param('queue') queue: string, @Param('id') id: string) {
    await this.admin.remove(auth.workspaceId, queue, id);
  }
}
