import { Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { asWorkspaceId } from '../../auth/auth-context';
import { Public } from '../../common/decorators/access.decorator';
import { TokenQueryDto } from '../leads/capture.schemas';
import { LeadsService } from '../leads/leads.service';
import { EmailLinkTokens } from './email-tokens';
import { confirmActionPage, messagePage } from './pages';

const INVALID = messagePage('Link not valid', 'This unsubscribe link is not valid. Use the link from your most recent email.');

/**
 * Unsubscribe links (RFC 8058). GET only shows a page with a button (link scanners and
 * prefetchers must not unsubscribe anyone); POST unsubscribes at once, needs no cookie or
 * session, and answers the same whether the lead still exists or not.
 */
@ApiTags('email')
@Controller('unsubscribe')
export class UnsubscribeController {
  constructor(
    private readonly tokens: EmailLinkTokens,
    private readonly leads: LeadsService,
  ) {}

  @Public()
  @Get()
  @ApiProduces('text/html')
  @ApiOperation({ summary: 'Unsubscribe link: a confirmation page (changes nothing)' })
  @ApiOkResponse({ description: 'HTML page with an Unsubscribe button that POSTs to the same URL' })
  page(@Query() query: TokenQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (!this.tokens.verify(query.token, 'unsubscribe')) {
      reply.status(400);
      return INVALID;
    }
    return confirmActionPage(
      'Unsubscribe',
      'Do you want to stop receiving these emails?',
      `/api/v1/unsubscribe?token=${encodeURIComponent(query.token)}`,
      'Unsubscribe',
    );
  }

  @Public()
  @Post()
  @HttpCode(200)
  @RouteConfig({ cors: false })
  @ApiProduces('text/html')
  @ApiOperation({
    summary: 'One-click unsubscribe (RFC 8058 `List-Unsubscribe=One-Click`, or the page button)',
    description:
      'Suppresses the address at once; idempotent. No cookies or credentials involved: the signed token is the authority.',
  })
  @ApiOkResponse({ description: 'HTML confirmation page' })
  async unsubscribe(@Query() query: TokenQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const payload = this.tokens.verify(query.token, 'unsubscribe');
    if (!payload) {
      reply.status(400);
      return INVALID;
    }
    await this.leads.unsubscribe(asWorkspaceId(payload.workspaceId), payload.leadId, 'one_click');
    return messagePage('Unsubscribed', 'You will not receive these emails any more.');
  }
}
