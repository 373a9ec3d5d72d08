import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Auth, type AuthContext } from '../../../auth/auth-context';
import { IdParam } from '../../../auth/id-param';
import { Access, Public } from '../../../common/decorators/access.decorator';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import { ServedByFastify } from '../../../http/served-by-fastify';
import { InboundEventDto, InboundEventPageDto, InboundEventsQueryDto, ReceiveResultDto } from './inbound.schemas';
import { InboundService } from './inbound.service';
import { rawBodyOf, type RawBodyRequest } from './raw-body';
import type { InboundRequest } from './verifiers';

/**
 * Raw body (see raw-body.ts). The per-IP API rate limit does not apply: providers send from a few
 * shared addresses in bursts, and every request is signature-checked before anything is stored,
 * so a flood of forged requests costs one HMAC each and writes nothing. The two ingest routes are
 * served by Fastify directly (see served-by-fastify.ts): they are public, take the raw request,
 * and are the hottest routes of the app.
 */
const RAW_BODY_ROUTE = { rawBody: true, rateLimit: false };

@ApiTags('webhooks')
@Controller('webhooks')
export class InboundController {
  constructor(
    private readonly inbound: InboundService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private toInboundRequest(request: FastifyRequest): InboundRequest {
    const path = request.url;
    const urls = [`${request.protocol}://${request.host}${path}`];
    if (this.config.PUBLIC_URL) urls.unshift(`${new URL(this.config.PUBLIC_URL).origin}${path}`);
    return {
      rawBody: rawBodyOf(request),
      headers: request.headers,
      method: request.method,
      urls,
      contentType: (request as RawBodyRequest).originalContentType,
    };
  }

  @Public()
  @Post('in/:source_id')
  @HttpCode(200)
  @ServedByFastify(RAW_BODY_ROUTE)
  @ApiOperation({
    summary: 'Receive a provider webhook for a source',
    description:
      'Verified on the raw bytes with the source’s provider scheme and secret(s). 200 once the event is durably stored ' +
      '(a duplicate is acknowledged without being processed again); 400 for a bad signature or stale timestamp, 401 ' +
      'for a bad Zapier key, 404 for an unknown or disabled source, 503 when it could not be stored (the provider retries).',
  })
  @ApiParam({ name: 'source_id', description: 'The source id from its URL' })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({ description: 'The provider’s payload, byte for byte', schema: { type: 'object' } })
  @ApiHeader({ name: 'stripe-signature', required: false })
  @ApiHeader({ name: 'x-hubspot-signature-v3', required: false })
  @ApiHeader({ name: 'webhook-signature', required: false })
  @ApiOkResponse({ type: ReceiveResultDto })
  receive(@Req() request: FastifyRequest) {
    const { source_id: sourceId } = request.params as { source_id: string };
    return this.inbound.receive(sourceId, this.toInboundRequest(request));
  }

  @Public()
  @Post('stripe')
  @HttpCode(200)
  @ServedByFastify(RAW_BODY_ROUTE)
  @ApiOperation({
    summary: 'Receive Stripe webhooks for a single-workspace deployment',
    description: 'Verified with WEBHOOK_SECRET; stored for DEFAULT_WORKSPACE_ID, or the only workspace.',
  })
  @ApiBody({ description: 'The Stripe event, byte for byte', schema: { type: 'object' } })
  @ApiHeader({ name: 'stripe-signature', required: true })
  @ApiOkResponse({ type: ReceiveResultDto })
  receiveStripe(@Req() request: FastifyRequest) {
    return this.inbound.receiveSeedStripe(this.toInboundRequest(request));
  }

  @Access('webhooks:manage')
  @Get('inbound-events')
  @ApiOperation({ summary: 'Inbound events received (newest first), with filters' })
  @ApiOkResponse({ type: InboundEventPageDto })
  list(@Auth() auth: AuthContext, @Query() q: InboundEventsQueryDto) {
    return this.inbound.list(
      auth.workspaceId,
      {
        sourceId: q.source_id,
        provider: q.provider,
        type: q.type,
        status: q.status,
        receivedFrom: q.received_from ? new Date(q.received_from) : undefined,
        receivedTo: q.received_to ? new Date(q.received_to) : undefined,
      },
      q,
    );
  }

  @Access('webhooks:manage')
  @Get('inbound-events/:id')
  @ApiOperation({ summary: 'One inbound event with its payload and processing status' })
  @ApiOkResponse({ type: InboundEventDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.inbound.get(auth.workspaceId, id);
  }

  @Access('webhooks:manage')
  @Post('inbound-events/:id/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Process an inbound event again',
    description: 'For events that failed or arrived before a handler existed; effects already applied are not repeated.',
  })
  @ApiOkResponse({ type: InboundEventDto })
  replay(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.inbound.replay(auth.workspaceId, id);
  }
}
