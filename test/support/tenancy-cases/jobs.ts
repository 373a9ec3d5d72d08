import { expect } from 'vitest';
import { uuidv7 } from 'uuidv7';
import type { WorkspaceId } from '../../../src/auth/auth-context';
import { demoWelcomeEmailJob } from '../../../src/jobs/demo.jobs';
import { JobsService } from '../../../src/jobs/jobs.service';
import { bearer } from '../auth';
import { registerTenancyCase, type TenantAuth } from '../tenancy-routes';
import type { TestApp } from '../test-app';

// Cross-tenant cases of the jobs admin API (issue 4): B's job is invisible to A.

/** A job of workspace B that stays put (delayed one hour). */
async function jobOfB(t: TestApp, b: TenantAuth): Promise<string> {
  return t.app
    .get(JobsService)
    .enqueue(
      demoWelcomeEmailJob,
      { lead_id: uuidv7(), dry_run: true },
      { workspaceId: b.workspaceId as WorkspaceId, delay: 3_600_000 },
    );
}

async function stillThere(t: TestApp, b: TenantAuth, id: string): Promise<void> {
  const res = await t.inject({ url: `/api/v1/jobs/default/${id}`, headers: bearer(b.owner.access_token) });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json<{ state: string }>().state).toBe('delayed');
}

registerTenancyCase({ name: 'job: read', method: 'GET', path: '/api/v1/jobs/default/:id', create: jobOfB });
registerTenancyCase({
  name: 'job: retry',
  method: 'POST',
  path: '/api/v1/jobs/default/:id/retry',
  create: jobOfB,
  verifyUntouched: stillThere,
});
registerTenancyCase({
  name: 'job: delete',
  method: 'DELETE',
  path: '/api/v1/jobs/default/:id',
  create: jobOfB,
  verifyUntouched: stillThere,
});
