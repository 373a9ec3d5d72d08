import { Body, Controller, Get, HttpCode, Options, Post, Put, Query, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Access, Public } from '../../common/decorators/access.decorator';
import { Auth, type AuthContext } from '../../auth/auth-context';
import { confirmActionPage, messagePage } from '../email/pages';
import {
  CaptureAcceptedDto,
  CaptureBodyDto,
  CaptureSettingsDto,
  PatchCaptureSettingsDto,
  TokenQueryDto,
} from './capture.schemas';
import { CaptureService } from './capture.service';
import { LeadsService } from './leads.service';

@ApiTags('capture')
@Controller('capture')
export class CaptureController {
  constructor(
    private readonly capture: CaptureService,
    private readonly leads: LeadsService,
  ) {}

  /**
   * Public: authenticated by the publishable key inside the handler (a header, `?key=` or a
   * `key` form field, so plain HTML forms work), with its own per-IP/per-email limits instead of
   * the global per-credential limit (a site's whole audience shares one publishable key).
   */
  @Public()
  @Post()
  @HttpCode(202)
  @RouteConfig({ rateLimit: false, cors: false })
  @ApiSecurity('bearer')
  @ApiSecurity('api_key')
  @ApiQuery({ name: 'key', required: false, description: 'Publishable key (sb_pk_…) for forms that cannot send headers' })
  @ApiOperation({
    summary: 'Capture a lead from a website form (publishable key)',
    description:
      'JSON or application/x-www-form-urlencoded. Answers 202 whether the address is new or known; the lead is created or ' +
      'merged and `lead.created`/`lead.updated` go through the outbox. `_hp` is a honeypot: a post that fills it is ' +
      'accepted and ignored. 429 with Retry-After past the per-IP or per-email limit. With double opt-in, new leads stay ' +
      '`pending` until they click the emailed link.',
  })
  @ApiBody({ type: CaptureBodyDto })
  @ApiResponse({ status: 202, type: CaptureAcceptedDto })
  async post(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const auth = await this.capture.authenticate(request, reply);
    await this.capture.capture(request, auth.workspaceId);
    return { status: 'accepted' as const, request_id: request.id };
  }

  @Public()
  @Options()
  @HttpCode(204)
  @RouteConfig({ rateLimit: false, cors: false })
  @ApiOperation({ summary: 'CORS preflight of the capture route (allowed origins come from the publishable key)' })
  @ApiResponse({ status: 204 })
  async preflight(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.capture.preflight(request, reply);
  }

  @Public()
  @Get('confirm')
  @ApiProduces('text/html')
  @ApiOperation({
    summary: 'Double opt-in link: a page with a confirm button',
    description: 'Changes nothing (link scanners open links); the button POSTs to the same URL.',
  })
  @ApiOkResponse({ description: 'HTML page' })
  confirmPage(@Query() query: TokenQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (!this.capture.verifyConfirmToken(query.token)) {
      reply.status(400);
      return messagePage('Link not valid', 'This confirmation link is invalid or has expired.');
    }
    return confirmActionPage(
      'Confirm your subscription',
      'Please confirm that you want to receive our emails.',
      `/api/v1/capture/confirm?token=${encodeURIComponent(query.token)}`,
      'Confirm',
    );
  }

  @Public()
  @Post('confirm')
  @HttpCode(200)
  @ApiProduces('text/html')
  @ApiOperation({ summary: 'Confirm a double opt-in (from the page of the emailed link)' })
  @ApiOkResponse({ description: 'HTML page, or 303 to the workspace confirmation_redirect_url' })
  async confirm(@Query() query: TokenQueryDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.capture.confirm(query.token, request.ip);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (!result.ok) {
      reply.status(400);
      return messagePage('Link not valid', 'This confirmation link is invalid or has expired.');
    }
    if (result.redirect) {
      reply.status(303).header('location', result.redirect);
      return '';
    }
    return messagePage('Thank you', 'Your subscription is confirmed.');
  }

  @Access('leads:read')
  @Get('settings')
  @ApiOperation({ summary: 'Capture settings of the workspace (double opt-in)' })
  @ApiOkResponse({ type: CaptureSettingsDto })
  settings(@Auth() auth: AuthContext) {
    return this.leads.settings(auth.workspaceId);
  }

  @Access('leads:write')
  @Put('settings')
  @ApiOperation({ summary: 'Change the capture settings (double opt-in, confirmation redirect)' })
  @ApiOkResponse({ type: CaptureSettingsDto })
  saveSettings(@Auth() auth: AuthContext, @Body() body: PatchCaptureSettingsDto) {
    return this.leads.saveSettings(auth.workspaceId, body);
  }
}
