import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../../common/errors/domain-error';
import { REDIS } from '../../common/redis.module';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';

/**
 * Rate limits of the public capture route (reliability row 5), with rate-limiter-flexible:
 * per client IP and per (workspace, email), in Redis when REDIS_URL is set (shared by every
 * API process, memory while Redis is down), in memory otherwise. Exceeding either answers
 * 429 with Retry-After. Emails are hashed before they become keys.
 */
@Injectable()
export class CaptureThrottle {
  private readonly byIp: RateLimiterAbstract;
  private readonly byEmail: RateLimiterAbstract;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis | null) {
    const duration = Math.max(1, Math.ceil(config.CAPTURE_RATE_LIMIT_WINDOW_MS / 1000));
    const make = (name: string, points: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ points, duration, keyPrefix: `capture:${name}` });
      if (!redis) return memory;
      return new RateLimiterRedis({
        storeClient: redis,
        points,
        duration,
        keyPrefix: `${config.REDIS_KEY_PREFIX}capture:${name}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      });
    };
    this.byIp = make('ip', config.CAPTURE_RATE_LIMIT_PER_IP);
    this.byEmail = make('email', config.CAPTURE_RATE_LIMIT_PER_EMAIL);
  }

  private static async take(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new DomainError('rate_limited', `Too many capture posts ${what}; retry in ${seconds} s`, undefined, {
        'retry-after': String(seconds),
      });
    }
  }

  consumeIp(ip: string): Promise<void> {
    return CaptureThrottle.take(this.byIp, ip, 'from this address');
  }

  consumeEmail(workspaceId: string, email: string): Promise<void> {
    const key = createHash('sha256').update(`${workspaceId}:${email}`).digest('base64url').slice(0, 32);
    return CaptureThrottle.take(this.byEmail, key, 'for this email');
  }
}
