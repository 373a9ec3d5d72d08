import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';

export const REDIS = Symbol('REDIS');

/** The shared ioredis client, or null when REDIS_URL is not set. */
@Global()
@Module({})
export class RedisModule {
  static forRoot(redis: Redis | null): DynamicModule {
    return { module: RedisModule, providers: [{ provide: REDIS, useValue: redis }], exports: [REDIS] };
  }
}
