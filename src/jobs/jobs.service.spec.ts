import { describe, expect, it } from 'vitest';
import { defaultJobOptions, mergeJobOptions } from './jobs.service';

const config = {
  JOBS_ATTEMPTS: 5,
  JOBS_BACKOFF_DELAY_MS: 2000,
  JOBS_BACKOFF_JITTER: 0.5,
  JOBS_KEEP_COMPLETED_COUNT: 1000,
  JOBS_KEEP_COMPLETED_AGE_S: 86_400,
  JOBS_KEEP_FAILED_COUNT: 10_000,
  JOBS_KEEP_FAILED_AGE_S: 1_209_600,
};

describe('job options', () => {
  it('defaults: 5 attempts, exponential backoff with jitter, bounded retention', () => {
    expect(defaultJobOptions(config)).toEqual({
      attempts: 5,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
      removeOnComplete: { age: 86_400, count: 1000 },
      removeOnFail: { age: 1_209_600, count: 10_000 },
    });
  });

  it("layers a definition and a call (the seed's example) and keeps the jitter", () => {
    const merged = mergeJobOptions(
      defaultJobOptions(config),
      { attempts: 4, priority: 3 },
      { delay: 5000, attempts: 3, backoff: { type: 'exponential', delay: 2000 } },
    );
    expect(merged).toMatchObject({
      attempts: 3,
      delay: 5000,
      priority: 3,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
      removeOnComplete: { age: 86_400, count: 1000 },
    });
    expect(mergeJobOptions(defaultJobOptions(config), { backoff: { type: 'fixed', delay: 10, jitter: 0 } }).backoff).toEqual({
      type: 'fixed',
      delay: 10,
      jitter: 0,
    });
  });
});
