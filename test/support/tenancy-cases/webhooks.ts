import { expect } from 'vitest';
import { bearer } from '../auth';
import { registerTenancyCase, type TenantAuth } from '../tenancy-routes';
import type { TestApp } from '../test-app';

// Cross-tenant cases of the webhooks area (issue 6). The URL is a public address that the tests
// never contact (nothing is sent: these apps run no worker and every call from A is a 404).
const PUBLIC_URL = 'https://93.184.215.14/switchboard-hook';

async function source(t: TestApp, b: TenantAuth): Promise<string> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/webhook-sources',
    headers: bearer(b.owner.access_token),
    payload: { provider: 'zapier', name: 'B source' },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

async function endpoint(t: TestApp, b: TenantAuth): Promise<string> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/webhook-endpoints',
    headers: bearer(b.owner.access_token),
    payload: { url: PUBLIC_URL, event_types: ['*'], description: 'B endpoint' },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

async function inboundEvent(t: TestApp, b: TenantAuth): Promise<string> {
  const src = await t.inject({
    method: 'POST',
    url: '/api/v1/webhook-sources',
    headers: bearer(b.owner.access_token),
    payload: { provider: 'zapier', name: 'B inbound' },
  });
  const { id, secret } = src.json<{ id: string; secret: string }>();
  const post = await t.inject({
    method: 'POST',
    url: `/api/v1/webhooks/in/${id}`,
    headers: { 'x-webhook-key': secret },
    payload: { email: 'b@example.com' },
  });
  expect(post.statusCode, post.body).toBe(200);
  const list = await t.inject({ url: `/api/v1/webhooks/inbound-events?source_id=${id}`, headers: bearer(b.owner.access_token) });
  return list.json<{ data: Array<{ id: string }> }>().data[0].id;
}

async function endpointUnchanged(t: TestApp, b: TenantAuth, id: string) {
  const res = await t.inject({ url: `/api/v1/webhook-endpoints/${id}`, headers: bearer(b.owner.access_token) });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ description: 'B endpoint', enabled: true });
  expect(res.json().secrets).toHaveLength(1);
}

async function sourceUnchanged(t: TestApp, b: TenantAuth, id: string) {
  const res = await t.inject({ url: `/api/v1/webhook-sources/${id}`, headers: bearer(b.owner.access_token) });
  expect(res.statusCode).toBe(200);
  expect(res.json().name).toBe('B source');
}

registerTenancyCase({ name: 'webhook source: read', method: 'GET', path: '/api/v1/webhook-sources/:id', create: source });
registerTenancyCase({
  name: 'webhook source: patch',
  method: 'PATCH',
  path: '/api/v1/webhook-sources/:id',
  body: { name: 'taken over' },
  create: source,
  verifyUntouched: sourceUnchanged,
});
registerTenancyCase({
  name: 'webhook source: delete',
  method: 'DELETE',
  path: '/api/v1/webhook-sources/:id',
  create: source,
  verifyUntouched: sourceUnchanged,
});
registerTenancyCase({ name: 'webhook endpoint: read', method: 'GET', path: '/api/v1/webhook-endpoints/:id', create: endpoint });
registerTenancyCase({
  name: 'webhook endpoint: patch',
  method: 'PATCH',
  path: '/api/v1/webhook-endpoints/:id',
  body: { description: 'taken over' },
  create: endpoint,
  verifyUntouched: endpointUnchanged,
});
registerTenancyCase({
  name: 'webhook endpoint: delete',
  method: 'DELETE',
  path: '/api/v1/webhook-endpoints/:id',
  create: endpoint,
  verifyUntouched: endpointUnchanged,
});
registerTenancyCase({
  name: 'webhook endpoint: rotate secret',
  method: 'POST',
  path: '/api/v1/webhook-endpoints/:id/rotate-secret',
  body: {},
  create: endpoint,
  verifyUntouched: endpointUnchanged,
});
registerTenancyCase({
  name: 'webhook endpoint: test',
  method: 'POST',
  path: '/api/v1/webhook-endpoints/:id/test',
  body: {},
  create: endpoint,
});
registerTenancyCase({
  name: 'webhook endpoint: deliveries',
  method: 'GET',
  path: '/api/v1/webhook-endpoints/:id/deliveries',
  create: endpoint,
});
registerTenancyCase({
  name: 'webhook endpoint: recover',
  method: 'POST',
  path: '/api/v1/webhook-endpoints/:id/recover',
  body: { since: '2026-01-01T00:00:00Z' },
  create: endpoint,
  verifyUntouched: endpointUnchanged,
});
registerTenancyCase({
  name: 'inbound event: read',
  method: 'GET',
  path: '/api/v1/webhooks/inbound-events/:id',
  create: inboundEvent,
});
registerTenancyCase({
  name: 'inbound event: replay',
  method: 'POST',
  path: '/api/v1/webhooks/inbound-events/:id/replay',
  create: inboundEvent,
  verifyUntouched: async (t, b, id) => {
    const res = await t.inject({ url: `/api/v1/webhooks/inbound-events/${id}`, headers: bearer(b.owner.access_token) });
    expect(res.json().replay_count).toBe(0);
  },
});
registerTenancyCase({
  name: 'zapier hook: unsubscribe',
  method: 'DELETE',
  path: '/api/v1/zapier/hooks/:id',
  create: async (t, b) => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/zapier/hooks',
      headers: bearer(b.owner.access_token),
      payload: { target_url: PUBLIC_URL, event: 'lead.created' },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  },
});
