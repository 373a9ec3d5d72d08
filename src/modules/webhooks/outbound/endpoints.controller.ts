import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { Auth, type AuthContext } from '../../../auth/auth-context';
import { IdParam } from '../../../auth/id-param';
import { IdempotencyRedact } from '../../../auth/idempotency/idempotency.decorator';
import { Access } from '../../../common/decorators/access.decorator';
import { paginationQuery } from '../../../common/http/pagination';
import { EVENT_CATALOGUE } from '../../../events/catalogue';
import {
  CreateEndpointDto,
  CreatedEndpointDto,
  DeliveriesQueryDto,
  DeliveryDetailDto,
  DeliveryDto,
  DeliveryPageDto,
  EndpointDto,
  EndpointPageDto,
  RecoverDto,
  RecoverResultDto,
  RotateSecretDto,
  RotatedSecretDto,
  TestEndpointDto,
  TestResultDto,
  UpdateEndpointDto,
} from './endpoints.schemas';
import { EndpointsService } from './endpoints.service';
import { samplePayload } from './event-types';

class PageQueryDto extends createZodDto(paginationQuery) {}
class EventTypesDto extends createZodDto(
  z.object({ data: z.array(z.object({ type: z.string(), description: z.string(), sample: z.record(z.string(), z.unknown()) })) }),
) {}

@ApiTags('webhooks')
@Controller('webhook-endpoints')
export class EndpointsController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Access('webhooks:manage')
  @Post()
  @IdempotencyRedact('secret')
  @ApiOperation({
    summary: 'Create an outbound webhook endpoint',
    description: 'The URL is checked against the SSRF policy. The whsec_ signing secret is in this response only.',
  })
  @ApiResponse({ status: 201, type: CreatedEndpointDto })
  create(@Auth() auth: AuthContext, @Body() body: CreateEndpointDto) {
    return this.endpoints.create(auth.workspaceId, body);
  }

  @Access('webhooks:manage')
  @Get()
  @ApiOperation({ summary: 'List outbound webhook endpoints' })
  @ApiOkResponse({ type: EndpointPageDto })
  list(@Auth() auth: AuthContext, @Query() q: PageQueryDto) {
    return this.endpoints.list(auth.workspaceId, q);
  }

  @Access('webhooks:manage')
  @Get(':id')
  @ApiOperation({ summary: 'One endpoint (secrets as hints only)' })
  @ApiOkResponse({ type: EndpointDto })
  get(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    return this.endpoints.get(auth.workspaceId, id);
  }

  @Access('webhooks:manage')
  @Patch(':id')
  @ApiOperation({ summary: 'Change URL, description, event types, rate limit; enable or disable' })
  @ApiOkResponse({ type: EndpointDto })
  update(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: UpdateEndpointDto) {
    return this.endpoints.update(auth.workspaceId, id, body);
  }

  @Access('webhooks:manage')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint and its delivery log' })
  @ApiNoContentResponse()
  async delete(@Auth() auth: AuthContext, @Param('id', IdParam) id: string) {
    await this.endpoints.delete(auth.workspaceId, id);
  }

  @Access('webhooks:manage')
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @IdempotencyRedact('secret')
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description: 'The new secret signs at once; the old one adds a second signature for 24 hours so receivers can switch.',
  })
  @ApiOkResponse({ type: RotatedSecretDto })
  rotate(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: RotateSecretDto) {
    return this.endpoints.rotateSecret(auth.workspaceId, id, body?.secret);
  }

  @Access('webhooks:manage')
  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a test message now and return the attempt',
    description: 'A sample of `event_type` (shaped like the real payload) or a ping; signed like every delivery; not retried.',
  })
  @ApiOkResponse({ type: TestResultDto })
  test(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: TestEndpointDto) {
    return this.endpoints.test(auth.workspaceId, id, body?.event_type);
  }

  @Access('webhooks:manage')
  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Messages sent to this endpoint (newest first) with their status' })
  @ApiOkResponse({ type: DeliveryPageDto })
  deliveries(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Query() q: DeliveriesQueryDto) {
    return this.endpoints.listDeliveries(auth.workspaceId, id, q);
  }

  @Access('webhooks:manage')
  @Get(':id/deliveries/:delivery_id')
  @ApiOperation({ summary: 'One message: its payload and every attempt (status, duration, first 4 KB of the answer)' })
  @ApiOkResponse({ type: DeliveryDetailDto })
  delivery(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Param('delivery_id', IdParam) deliveryId: string) {
    return this.endpoints.getDelivery(auth.workspaceId, id, deliveryId);
  }

  @Access('webhooks:manage')
  @Post(':id/deliveries/:delivery_id/resend')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a message again (same webhook-id), with a fresh retry schedule' })
  @ApiAcceptedResponse({ type: DeliveryDto })
  resend(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Param('delivery_id', IdParam) deliveryId: string) {
    return this.endpoints.resend(auth.workspaceId, id, deliveryId);
  }

  @Access('webhooks:manage')
  @Post(':id/recover')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send again every message since a time that did not get through',
    description: 'Re-enables a disabled endpoint. Each message keeps its webhook-id.',
  })
  @ApiAcceptedResponse({ type: RecoverResultDto })
  recover(@Auth() auth: AuthContext, @Param('id', IdParam) id: string, @Body() body: RecoverDto) {
    return this.endpoints.recover(auth.workspaceId, id, new Date(body.since));
  }
}

@ApiTags('webhooks')
@Controller('webhooks')
export class EventTypesController {
  @Access()
  @Get('event-types')
  @ApiOperation({ summary: 'The event catalogue: every type an endpoint can subscribe to, with a sample payload' })
  @ApiOkResponse({ type: EventTypesDto })
  eventTypes() {
    return {
      data: Object.entries(EVENT_CATALOGUE).map(([type, spec]) => ({
        type,
        description: spec.description,
        sample: samplePayload(type),
      })),
    };
  }
}
