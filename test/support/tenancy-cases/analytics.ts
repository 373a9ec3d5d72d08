import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import { bearer } from '../auth';
import { registerTenancyCase, type TenantAuth } from '../tenancy-routes';
import type { TestApp } from '../test-app';

// Cross-tenant cases of the analytics area (issue 7): connections, their runs, reports.

async function connection(t: TestApp, b: TenantAuth): Promise<string> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/analytics/connections',
    headers: bearer(b.owner.access_token),
    // Disabled: no schedule, nothing ever calls the (unreachable) provider.
    payload: {
      provider: 'linkedin_ads',
      account_id: String(randomInt(1, 2 ** 40)),
      credentials: { access_token: 'tenant-b-token' },
      enabled: false,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

async function report(t: TestApp, b: TenantAuth): Promise<string> {
  // A long range is stored as a report (202); the api-role test app never runs it.
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/analytics/report',
    headers: bearer(b.owner.access_token),
    payload: { date_range: '2025-01-01..2025-12-31', metrics: ['spend', 'clicks'] },
  });
  expect(res.statusCode, res.body).toBe(202);
  return res.json<{ id: string }>().id;
}

const unchanged = async (t: TestApp, b: TenantAuth, id: string) => {
  const res = await t.inject({ url: `/api/v1/analytics/connections/${id}`, headers: bearer(b.owner.access_token) });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ enabled: false, last_sync_status: null });
  expect(res.json().name).not.toBe('hijacked');
  const runs = await t.inject({ url: `/api/v1/analytics/connections/${id}/runs`, headers: bearer(b.owner.access_token) });
  expect(runs.json().data).toEqual([]);
};

registerTenancyCase({
  name: 'analytics connection: read',
  method: 'GET',
  path: '/api/v1/analytics/connections/:id',
  create: connection,
});
registerTenancyCase({
  name: 'analytics connection: patch',
  method: 'PATCH',
  path: '/api/v1/analytics/connections/:id',
  create: connection,
  body: { name: 'hijacked' },
  verifyUntouched: unchanged,
});
registerTenancyCase({
  name: 'analytics connection: delete',
  method: 'DELETE',
  path: '/api/v1/analytics/connections/:id',
  create: connection,
  verifyUntouched: unchanged,
});
registerTenancyCase({
  name: 'analytics connection: sync',
  method: 'POST',
  path: '/api/v1/analytics/connections/:id/sync',
  create: connection,
  body: {},
  verifyUntouched: unchanged,
});
registerTenancyCase({
  name: 'analytics connection: runs',
  method: 'GET',
  path: '/api/v1/analytics/connections/:id/runs',
  create: connection,
});
registerTenancyCase({ name: 'analytics report: status', method: 'GET', path: '/api/v1/analytics/reports/:id', create: report });
registerTenancyCase({
  name: 'analytics report: download',
  method: 'GET',
  path: '/api/v1/analytics/reports/:id/download',
  create: report,
});
