import { afterAll, describe, expect, it } from 'vitest';
import { ProbeModule } from '../support/probe.module';
import { startTestApp, type TestApp } from '../support/test-app';

describe('graceful shutdown (reliability row 23)', () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('lets in-flight requests finish while readiness and new requests get 503', async () => {
    t = await startTestApp('pglite', { listen: true, extraImports: [ProbeModule] });
    const base = t.runtime.url!;
    const inFlight = fetch(`${base}/api/v1/__probe/slow?ms=1000`);
    await new Promise((r) => setTimeout(r, 200));
    const stopping = t.runtime.stop();
    // New work is refused once shutdown began (503 or a closed listener), never hangs.
    const late = await fetch(`${base}/health/ready`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await stopping;
  });
});
