import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { Public } from '../common/decorators/access.decorator';
import { REDIS } from '../common/redis.module';
import type { Database } from '../db/database';
import { DATABASE } from '../db/database.module';
import { Lifecycle } from './lifecycle';
import { MetricsService } from './metrics';

async function check(fn: () => Promise<unknown>, timeoutMs: number): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(REDIS) private readonly redis: Redis | null,
    private readonly lifecycle: Lifecycle,
    private readonly metrics: MetricsService,
  ) {}

  @Public()
  @Get('health/live')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  live() {
    return { status: 'ok' };
  }

  @Public()
  @Get('health/ready')
  @ApiOperation({ summary: 'Readiness: database (and Redis when configured) reachable; 503 otherwise or while shutting down' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks: Record<string, 'ok' | 'down'> = {
      database: await check(() => this.database.ping(1500), 2000),
    };
    if (this.redis) checks.redis = await check(() => this.redis!.ping(), 1000);
    const ok = !this.lifecycle.isShuttingDown && Object.values(checks).every((c) => c === 'ok');
    if (!ok) reply.status(503).header('retry-after', '5');
    return { status: this.lifecycle.isShuttingDown ? 'shutting_down' : ok ? 'ok' : 'unavailable', checks };
  }

  @Public()
  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics' })
  @ApiProduces('text/plain')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async prometheus() {
    return this.metrics.registry.metrics();
  }
}
