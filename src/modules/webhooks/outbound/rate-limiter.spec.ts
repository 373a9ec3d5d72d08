import { describe, expect, it } from 'vitest';
import { EndpointRateLimiter } from './rate-limiter';

describe('EndpointRateLimiter (in-process)', () => {
  it('lets `perSecond` deliveries through per window and defers the rest past the window', async () => {
    let now = 10_000_250;
    const rl = new EndpointRateLimiter(null, 'x:', () => now);
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await rl.acquire('ep1', 3));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBeGreaterThanOrEqual(750);
    expect(waits[3]).toBeLessThan(1000);
    // Other endpoints have their own budget; no limit means no wait.
    expect(await rl.acquire('ep2', 3)).toBe(0);
    expect(await rl.acquire('ep1', null)).toBe(0);
    now += 1000;
    expect(await rl.acquire('ep1', 3)).toBe(0);
  });

  it('spreads a burst over the following windows', async () => {
    const rl = new EndpointRateLimiter(null, 'x:', () => 5_000_000);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) waits.push(await rl.acquire('ep', 2));
    expect(waits[2]).toBeLessThan(1200); // third → next window
    expect(waits[4]).toBeGreaterThanOrEqual(2000); // fifth → the one after
    expect(waits[6]).toBeGreaterThanOrEqual(3000);
  });
});
