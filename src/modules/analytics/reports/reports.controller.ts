import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth, type AuthContext } from '../../../auth/auth-context';
import { IdParam } from '../../../auth/id-param';
import { Access } from '../../../common/decorators/access.decorator';
import { DownloadQueryDto, ReportDto, ReportRequestDto, ReportResultDto } from '../analytics.schemas';
import { ReportsService } from './reports.service';

@ApiTags('analytics')
@ApiExtraModels(ReportResultDto, ReportDto)
@Controller('analytics')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Access('analytics:read')
  @Post('report')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A report: chosen metrics per day and in total for a campaign (or everything) over a date range',
    description:
      '`date_range` is `YYYY-MM-DD..YYYY-MM-DD` or a preset (last_7_days, last_30_days, this_month …); `metrics` names ' +
      'totals and KPIs of the summary. Up to ANALYTICS_REPORT_INLINE_MAX_DAYS days (default 31) the report is the answer ' +
      '(200); longer ranges answer 202 with a report id, a job writes CSV and JSON, and GET /analytics/reports/{id} ' +
      'tells when it is ready.',
  })
  @ApiResponse({ status: 200, type: ReportResultDto, description: 'Small range: the report itself' })
  @ApiResponse({ status: 202, type: ReportDto, description: 'Large range: queued; poll the report' })
  async create(@Auth() auth: AuthContext, @Body() body: ReportRequestDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const answer = await this.reports.request(auth, body);
    if (answer.kind === 'inline') return answer.result;
    reply.status(202).header('location', `/api/v1/analytics/reports/${answer.report.id}`);
    return answer.report;
  }

  @Access('analytics:read')
  @Get('reports/:id')
  @ApiOperation({ summary: 'Status of a queued report, with download links once it has succeeded' })
  @ApiOkResponse({ type: ReportDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.reports.get(auth.workspaceId, id);
  }

  @Access('analytics:read')
  @Get('reports/:id/download')
  @ApiProduces('text/csv', 'application/json')
  @ApiOperation({ summary: 'The finished report as CSV or JSON (409 until it has succeeded)' })
  @ApiOkResponse({ description: 'text/csv (a row per day and a total row) or application/json (as the inline answer)' })
  async download(
    @Auth() auth: AuthContext,
    @Param('id', IdParam) id: string,
    @Query() q: DownloadQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const file = await this.reports.download(auth.workspaceId, id, q.format);
    reply.header('content-type', file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`);
    return file.body;
  }
}
