import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth, type AuthContext } from '../../auth/auth-context';
import { IdParam } from '../../auth/id-param';
import { Access } from '../../common/decorators/access.decorator';
import {
  CreateSequenceDto,
  EnrolDto,
  EnrolmentDto,
  EnrolmentPageDto,
  ListSequencesQueryDto,
  PatchSequenceDto,
  SequenceDto,
  SequencePageDto,
} from './sequences.schemas';
import { SequencesService } from './sequences.service';

@ApiTags('sequences')
@Controller('sequences')
export class SequencesController {
  constructor(private readonly sequences: SequencesService) {}

  @Access('campaigns:write')
  @Post()
  @ApiOperation({
    summary: 'Create an email sequence',
    description:
      'Ordered steps (delay_seconds + template). Triggers: `lead_captured` (filters source/tag/campaign_id/channels), ' +
      '`tag_added`, `manual`. A lead leaves when it unsubscribes, bounces, converts or is removed; unconfirmed ' +
      '(double opt-in) leads wait, and every send is re-checked against the suppression list.',
  })
  @ApiResponse({ status: 201, type: SequenceDto })
  create(@Auth() auth: AuthContext, @Body() body: CreateSequenceDto) {
    return this.sequences.create(auth.workspaceId, body);
  }

  @Access('campaigns:read')
  @Get()
  @ApiOperation({ summary: 'List sequences, newest first' })
  @ApiOkResponse({ type: SequencePageDto })
  list(@Auth() auth: AuthContext, @Query() query: ListSequencesQueryDto) {
    return this.sequences.list(auth.workspaceId, query);
  }

  @Access('campaigns:read')
  @Get(':id')
  @ApiOperation({ summary: 'One sequence with its steps' })
  @ApiOkResponse({ type: SequenceDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.sequences.get(auth.workspaceId, id);
  }

  @Access('campaigns:write')
  @Patch(':id')
  @ApiOperation({ summary: 'Update a sequence (status active/paused/archived; `steps` replaces all steps)' })
  @ApiOkResponse({ type: SequenceDto })
  patch(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: PatchSequenceDto) {
    return this.sequences.patch(auth.workspaceId, id, body);
  }

  @Access('campaigns:write')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a sequence and its enrolments (pending steps are not sent)' })
  @ApiNoContentResponse()
  async remove(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    await this.sequences.remove(auth.workspaceId, id);
  }

  @Access('campaigns:write')
  @Post(':id/enrolments')
  @ApiOperation({ summary: 'Enrol a lead manually (201 new, 200 already enrolled)' })
  @ApiResponse({ status: 201, type: EnrolmentDto })
  @ApiResponse({ status: 200, type: EnrolmentDto })
  async enrol(
    @Auth() auth: AuthContext,
    @Param('id', IdParam) id: string,
    @Body() body: EnrolDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { created, enrolment } = await this.sequences.enrol(auth.workspaceId, id, body.lead_id);
    reply.status(created ? 201 : 200);
    return enrolment;
  }

  @Access('campaigns:read')
  @Get(':id/enrolments')
  @ApiOperation({ summary: 'Enrolments of a sequence, newest first' })
  @ApiOkResponse({ type: EnrolmentPageDto })
  enrolments(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Query() query: ListSequencesQueryDto) {
    return this.sequences.enrolments(auth.workspaceId, id, query);
  }

  @Access('campaigns:write')
  @Delete(':id/enrolments/:leadId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a lead from a sequence (exit reason `removed`)' })
  @ApiNoContentResponse()
  async removeLead(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Param('leadId', IdParam) leadId: string) {
    await this.sequences.removeLead(auth.workspaceId, id, leadId);
  }
}
