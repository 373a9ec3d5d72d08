import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { Auth, type AuthContext } from '../../auth/auth-context';
import { IdParam } from '../../auth/id-param';
import { Access } from '../../common/decorators/access.decorator';
import { paginationQuery } from '../../common/http/pagination';
import {
  ActivityPageDto,
  CreateLeadDto,
  DeleteLeadQueryDto,
  ExportLeadsQueryDto,
  LeadDto,
  LeadPageDto,
  ListLeadsQueryDto,
  PatchLeadDto,
  UpsertResultDto,
} from './leads.schemas';
import { ImportDto, ImportQueryDto, LeadImportsService } from './lead-imports.service';
import type { ColumnMapping } from './leads-csv';
import { LeadsService } from './leads.service';

class PageQueryDto extends createZodDto(paginationQuery) {}
class GdprExportDto extends createZodDto(
  z.object({
    exported_at: z.iso.datetime(),
    lead: z.record(z.string(), z.unknown()),
    suppression: z.object({ reason: z.string() }).nullable(),
    activity: z.array(z.record(z.string(), z.unknown())),
    email_sends: z.array(z.record(z.string(), z.unknown())),
    sequence_enrolments: z.array(z.record(z.string(), z.unknown())),
    conversions: z.array(z.record(z.string(), z.unknown())),
  }),
) {}

@ApiTags('leads')
@Controller('leads')
export class LeadsController {
  constructor(
    private readonly leads: LeadsService,
    private readonly imports: LeadImportsService,
  ) {}

  @Access('leads:write')
  @Post()
  @ApiOperation({
    summary: 'Create a lead, or merge into the lead with the same email',
    description:
      'The email is trimmed, NFC-normalised and lower-cased. 201 when created, 200 when merged (`result` says which); ' +
      'a merge never overwrites a value with an empty one. Gmail dot/+tag variants of an existing address are created ' +
      'and flagged in `possible_duplicate_of`, never merged.',
  })
  @ApiResponse({ status: 201, type: UpsertResultDto, description: 'Created' })
  @ApiResponse({ status: 200, type: UpsertResultDto, description: 'Merged into an existing lead' })
  async create(@Auth() auth: AuthContext, @Body() body: CreateLeadDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { record: _record, ...result } = await this.leads.createOrMerge(auth.workspaceId, body, { via: 'api' });
    reply.status(result.result === 'created' ? 201 : 200);
    return result;
  }

  @Access('leads:read')
  @Get()
  @ApiOperation({ summary: 'List leads, newest first (filters: status, source, tag, campaign, created_from/to, q)' })
  @ApiOkResponse({ type: LeadPageDto })
  list(@Auth() auth: AuthContext, @Query() query: ListLeadsQueryDto) {
    return this.leads.list(auth.workspaceId, query);
  }

  @Access('leads:read')
  @Get('export')
  @ApiProduces('text/csv')
  @ApiOperation({
    summary: 'Export leads as CSV (streamed; same filters as the list)',
    description: "Cells a spreadsheet would read as a formula (starting with = + - @ tab CR) are prefixed with '.",
  })
  @ApiOkResponse({ description: 'text/csv' })
  export(@Auth() auth: AuthContext, @Query() query: ExportLeadsQueryDto) {
    const stream = this.leads.exportCsv(auth.workspaceId, query);
    return new StreamableFile(stream, { type: 'text/csv; charset=utf-8', disposition: 'attachment; filename="leads.csv"' });
  }

  @Access('leads:write')
  @Post('import')
  @HttpCode(202)
  @ApiConsumes('text/csv')
  @ApiBody({
    schema: { type: 'string', format: 'binary' },
    description: 'The CSV file (first row = headers), up to 100,000 rows',
  })
  @ApiOperation({
    summary: 'Import leads from CSV (streamed; one job merges them)',
    description:
      'Every row is validated like POST /leads while the file streams in; invalid rows are listed in `errors` ' +
      '(row number, line, fields) and skipped. Valid rows are merged by one job (create-or-merge, Gmail variants ' +
      'flagged); poll GET /leads/imports/{id} for progress. Headers like email, first_name, "First Name", phone, ' +
      'company, tags, utm_* are recognised; `mapping` overrides.',
  })
  @ApiResponse({ status: 202, type: ImportDto })
  startImport(@Auth() auth: AuthContext, @Req() request: FastifyRequest, @Query() query: ImportQueryDto) {
    return this.imports.start(auth.workspaceId, request.body, {
      mapping: query.mapping as ColumnMapping | undefined,
      filename: query.filename,
      userId: auth.userId,
    });
  }

  @Access('leads:read')
  @Get('imports/:id')
  @ApiOperation({ summary: 'Progress and per-row errors of an import' })
  @ApiOkResponse({ type: ImportDto })
  getImport(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.imports.get(auth.workspaceId, id);
  }

  @Access('leads:read')
  @Get(':id')
  @ApiOperation({ summary: 'One lead' })
  @ApiOkResponse({ type: LeadDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.leads.get(auth.workspaceId, id);
  }

  @Access('leads:write')
  @Patch(':id')
  @ApiOperation({
    summary: 'Update a lead (null clears a field)',
    description: 'Status `unsubscribed`/`bounced` also suppresses the address; `customer` emits lead.converted.',
  })
  @ApiOkResponse({ type: LeadDto })
  patch(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: PatchLeadDto) {
    return this.leads.patch(auth.workspaceId, id, body);
  }

  @Access('leads:write')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a lead; `?erase=true` for a GDPR erasure',
    description:
      'Erasure removes the personal data from every table and pending job and keeps a hashed suppression entry, so a ' +
      're-import of the address is never mailed.',
  })
  @ApiNoContentResponse()
  async remove(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Query() query: DeleteLeadQueryDto) {
    await this.leads.remove(auth.workspaceId, id, query.erase);
  }

  @Access('leads:read')
  @Get(':id/activity')
  @ApiOperation({ summary: 'The timeline of a lead, newest first' })
  @ApiOkResponse({ type: ActivityPageDto })
  activity(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Query() query: PageQueryDto) {
    return this.leads.activity(auth.workspaceId, id, query);
  }

  @Access('leads:read')
  @Get(':id/export')
  @ApiOperation({ summary: 'GDPR export: everything held about the lead, as JSON' })
  @ApiOkResponse({ type: GdprExportDto })
  gdprExport(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.leads.gdprExport(auth.workspaceId, id);
  }
}
