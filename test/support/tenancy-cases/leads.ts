import { expect } from 'vitest';
import { bearer } from '../auth';
import { registerTenancyCase, type TenantAuth } from '../tenancy-routes';
import type { TestApp } from '../test-app';

// Cross-tenant cases of leads, campaigns, email templates, sequences and imports (issue 5).

async function create(t: TestApp, b: TenantAuth, url: string, payload: object): Promise<string> {
  const res = await t.inject({ method: 'POST', url, headers: bearer(b.owner.access_token), payload });
  expect(res.statusCode, res.body).toBeLessThan(300);
  const body = res.json<{ id?: string; lead?: { id: string } }>();
  return body.lead?.id ?? body.id!;
}

const lead = (t: TestApp, b: TenantAuth) =>
  create(t, b, '/api/v1/leads', { email: `tenant-${Date.now()}-${Math.random()}@example.com`, first_name: 'B' });
const campaign = (t: TestApp, b: TenantAuth) => create(t, b, '/api/v1/campaigns', { name: 'B campaign', channel: 'email' });
const template = (t: TestApp, b: TenantAuth) =>
  create(t, b, '/api/v1/email-templates', {
    name: 'B template',
    subject: 'Hi',
    html: '<p>Hi {{lead.first_name}}</p>',
    text: 'Hi',
  });
const sequence = async (t: TestApp, b: TenantAuth) =>
  create(t, b, '/api/v1/sequences', {
    name: 'B sequence',
    status: 'paused',
    trigger: { type: 'manual' },
    steps: [{ delay_seconds: 3600, template_id: await template(t, b) }],
  });

const stillThere = (path: string) => async (t: TestApp, b: TenantAuth, id: string) => {
  const res = await t.inject({ url: path.replace(':id', id), headers: bearer(b.owner.access_token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Record<string, unknown>>();
};

registerTenancyCase({ name: 'lead: read', method: 'GET', path: '/api/v1/leads/:id', create: lead });
registerTenancyCase({
  name: 'lead: patch',
  method: 'PATCH',
  path: '/api/v1/leads/:id',
  body: { first_name: 'Changed by A' },
  create: lead,
  verifyUntouched: async (t, b, id) => expect((await stillThere('/api/v1/leads/:id')(t, b, id)).first_name).toBe('B'),
});
registerTenancyCase({
  name: 'lead: delete',
  method: 'DELETE',
  path: '/api/v1/leads/:id',
  create: lead,
  verifyUntouched: stillThere('/api/v1/leads/:id'),
});
registerTenancyCase({
  name: 'lead: GDPR erase',
  method: 'DELETE',
  path: '/api/v1/leads/:id?erase=true',
  create: lead,
  verifyUntouched: stillThere('/api/v1/leads/:id'),
});
registerTenancyCase({ name: 'lead: activity', method: 'GET', path: '/api/v1/leads/:id/activity', create: lead });
registerTenancyCase({ name: 'lead: GDPR export', method: 'GET', path: '/api/v1/leads/:id/export', create: lead });

registerTenancyCase({ name: 'campaign: read', method: 'GET', path: '/api/v1/campaigns/:id', create: campaign });
registerTenancyCase({ name: 'campaign: stats', method: 'GET', path: '/api/v1/campaigns/:id/stats', create: campaign });
registerTenancyCase({
  name: 'campaign: patch',
  method: 'PATCH',
  path: '/api/v1/campaigns/:id',
  body: { name: 'Changed by A' },
  create: campaign,
  verifyUntouched: async (t, b, id) => expect((await stillThere('/api/v1/campaigns/:id')(t, b, id)).name).toBe('B campaign'),
});
registerTenancyCase({
  name: 'campaign: delete',
  method: 'DELETE',
  path: '/api/v1/campaigns/:id',
  create: campaign,
  verifyUntouched: stillThere('/api/v1/campaigns/:id'),
});

registerTenancyCase({ name: 'email template: read', method: 'GET', path: '/api/v1/email-templates/:id', create: template });
registerTenancyCase({
  name: 'email template: patch',
  method: 'PATCH',
  path: '/api/v1/email-templates/:id',
  body: { subject: 'Changed by A' },
  create: template,
  verifyUntouched: async (t, b, id) => expect((await stillThere('/api/v1/email-templates/:id')(t, b, id)).subject).toBe('Hi'),
});
registerTenancyCase({
  name: 'email template: delete',
  method: 'DELETE',
  path: '/api/v1/email-templates/:id',
  create: template,
  verifyUntouched: stillThere('/api/v1/email-templates/:id'),
});
registerTenancyCase({
  name: 'email template: preview',
  method: 'POST',
  path: '/api/v1/email-templates/:id/preview',
  body: {},
  create: template,
});

registerTenancyCase({ name: 'sequence: read', method: 'GET', path: '/api/v1/sequences/:id', create: sequence });
registerTenancyCase({
  name: 'sequence: patch',
  method: 'PATCH',
  path: '/api/v1/sequences/:id',
  body: { name: 'Changed by A' },
  create: sequence,
  verifyUntouched: async (t, b, id) => expect((await stillThere('/api/v1/sequences/:id')(t, b, id)).name).toBe('B sequence'),
});
registerTenancyCase({
  name: 'sequence: delete',
  method: 'DELETE',
  path: '/api/v1/sequences/:id',
  create: sequence,
  verifyUntouched: stillThere('/api/v1/sequences/:id'),
});
registerTenancyCase({ name: 'sequence: enrolments', method: 'GET', path: '/api/v1/sequences/:id/enrolments', create: sequence });
registerTenancyCase({
  name: 'sequence: enrol a lead of B',
  method: 'POST',
  path: '/api/v1/sequences/:id/enrolments',
  // A names its own (valid) body; the sequence id is B's.
  body: { lead_id: '01900000-0000-7000-8000-000000000000' },
  create: sequence,
});
registerTenancyCase({
  name: 'import: read',
  method: 'GET',
  path: '/api/v1/leads/imports/:id',
  create: async (t, b) => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/leads/import',
      headers: { ...bearer(b.owner.access_token), 'content-type': 'text/csv' },
      payload: 'email\nnot-an-email\n',
    });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ id: string }>().id;
  },
});
