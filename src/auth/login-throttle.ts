import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../common/errors/domain-error';
import { REDIS } from '../common/redis.module';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

/**
 * Failed-login counters per account and per client IP, with rate-limiter-flexible: in Redis
 * when REDIS_URL is set (shared by every API process; falls back to memory while Redis is
 * down), in memory otherwise. Only failures count; a successful login clears the account's
 * counter. Once either counter reaches its limit the login answers 429 with Retry-After,
 * before the password is even checked.
 */
@Injectable()
export class LoginThrottle {
  private readonly byAccount: RateLimiterAbstract;
  private readonly byIp: RateLimiterAbstract;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis | null) {
    const duration = Math.ceil(config.LOGIN_THROTTLE_WINDOW_MS / 1000);
    const make = (name: string, points: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ points, duration, keyPrefix: `login:${name}` });
      if (!redis) return memory;
      return new RateLimiterRedis({
        storeClient: redis,
        points,
        duration,
        keyPrefix: `${config.REDIS_KEY_PREFIX}login:${name}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      });
    };
    this.byAccount = make('account', config.LOGIN_MAX_FAILURES_PER_ACCOUNT);
    this.byIp = make('ip', config.LOGIN_MAX_FAILURES_PER_IP);
  }

  private static accountKey(email: string): string {
    return createHash('sha256').update(email).digest('base64url').slice(0, 32);
  }

  /** Throws 429 when the account or the IP has used up its failures. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const [account, byIp] = await Promise.all([this.byAccount.get(LoginThrottle.accountKey(email)), this.byIp.get(ip)]);
    let waitMs = 0;
    for (const [res, limiter] of [
      [account, this.byAccount],
      [byIp, this.byIp],
    ] as const) {
      if (res && res.consumedPoints >= limiter.points) waitMs = Math.max(waitMs, res.msBeforeNext);
    }
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new DomainError('rate_limited', `Too many failed sign-in attempts; retry in ${seconds} s`, undefined, {
        'retry-after': String(seconds),
      });
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    await Promise.all([this.byAccount.penalty(LoginThrottle.accountKey(email)), this.byIp.penalty(ip)]);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.byAccount.delete(LoginThrottle.accountKey(email));
  }
}
