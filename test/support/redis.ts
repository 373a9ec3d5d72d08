import { Redis } from 'ioredis';
import { IN_CI, TEST_REDIS_URL } from './postgres';

let reachable: Promise<boolean> | undefined;

/** Like postgresAvailable(): skip with a visible line on a laptop, fail under CI=true. */
export function redisAvailable(): Promise<boolean> {
  reachable ??= (async () => {
    const redis = new Redis(TEST_REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 3000,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
      return true;
    } catch (err) {
      if (IN_CI) throw new Error(`CI=true but Redis at ${TEST_REDIS_URL} is unreachable: ${(err as Error).message}`);
      console.warn(`[skip] Redis at ${TEST_REDIS_URL} is unreachable; Redis tests are skipped`);
      return false;
    } finally {
      redis.disconnect();
    }
  })();
  return reachable;
}
