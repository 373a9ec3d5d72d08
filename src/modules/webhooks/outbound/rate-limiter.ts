import type { Redis } from 'ioredis';

/**
 * Per-endpoint delivery rate limit (deliveries per second), fixed one-second windows. With Redis
 * the budget is shared by every worker (INCR + PEXPIRE in one round trip); without it each
 * process keeps its own count. A Redis error never blocks delivery (fails open, like the API's
 * rate limit).
 */
export class EndpointRateLimiter {
  private readonly local = new Map<string, { window: number; count: number }>();

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the delivery may go now, else milliseconds until the next window. */
  async acquire(endpointId: string, perSecond: number | null): Promise<number> {
    if (!perSecond) return 0;
    const now = this.now();
    const window = Math.floor(now / 1000);
    const wait = 1000 - (now % 1000);
    let count: number;
    if (this.redis && this.redis.status === 'ready') {
      try {
        const key = `${this.prefix}webhooks:rl:${endpointId}:${window}`;
        const res = await this.redis.multi().incr(key).pexpire(key, 2000).exec();
        count = Number(res?.[0]?.[1] ?? 0);
      } catch {
        return 0;
      }
    } else {
      const entry = this.local.get(endpointId);
      if (!entry || entry.window !== window) {
        this.local.set(endpointId, { window, count: 1 });
        if (this.local.size > 50_000) this.local.clear();
        count = 1;
      } else {
        count = ++entry.count;
      }
    }
    if (count <= perSecond) return 0;
    // Spread the overflow over the next windows instead of stampeding the next one.
    const windowsAhead = Math.floor((count - 1) / perSecond);
    return wait + (windowsAhead - 1) * 1000 + Math.floor(Math.random() * 200);
  }
}
