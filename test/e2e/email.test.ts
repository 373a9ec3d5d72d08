import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailLinkTokens } from '../../src/modules/email/email-tokens';
import { bearer, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

describe.each(await dbTargets())('email templates and unsubscribe (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp(target, { env: { RATE_LIMIT_MAX: '100000', PUBLIC_URL: 'https://sb.acme.test' } });
    owner = await registerUser(t);
    h = bearer(owner.access_token);
  });
  afterAll(() => t?.close());

  const createTemplate = (payload: object) => t.inject({ method: 'POST', url: '/api/v1/email-templates', headers: h, payload });

  it('rejects unknown variables, unescaped output and syntax errors on save, listing each part', async () => {
    const res = await createTemplate({
      name: 'bad',
      subject: 'Hi {{lead.nickname}}',
      html: '<p>{{{lead.first_name}}}</p>',
      text: '{{#lead.first_name}}unclosed',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(['subject', 'html', 'text']);
    const patchBad = await createTemplate({ name: 'ok', subject: 'Hi', html: '<p>x</p>', text: 'x' });
    const id = patchBad.json().id;
    expect(
      (await t.inject({ method: 'PATCH', url: `/api/v1/email-templates/${id}`, headers: h, payload: { html: '{{> partial}}' } }))
        .statusCode,
    ).toBe(400);
  });

  it('previews with HTML-escaped variables, a lead or a sample, and the unsubscribe footer', async () => {
    const tpl = (
      await createTemplate({
        name: 'welcome',
        subject: 'Welcome {{lead.first_name}}',
        html: '<p>Hi {{lead.first_name}} from {{lead.custom.plan}}</p>',
        text: 'Hi {{lead.first_name}}',
      })
    ).json();
    expect(tpl.variables).toEqual(['lead.custom.plan', 'lead.first_name']);
    const lead = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/leads',
        headers: h,
        payload: { email: 'x@example.com', first_name: '<i>Ann</i>', custom_fields: { plan: 'a&b' } },
      })
    ).json().lead;
    const preview = await t.inject({
      method: 'POST',
      url: `/api/v1/email-templates/${tpl.id}/preview`,
      headers: h,
      payload: { lead_id: lead.id },
    });
    expect(preview.statusCode, preview.body).toBe(200);
    const p = preview.json();
    expect(p.subject).toBe('Welcome <i>Ann</i>');
    expect(p.html).toContain('<p>Hi &lt;i&gt;Ann&lt;&#x2F;i&gt; from a&amp;b</p>');
    expect(p.html).toMatch(/href="https:\/\/sb\.acme\.test\/api\/v1\/unsubscribe\?token=[^"]+">Unsubscribe<\/a>/);
    expect(p.text).toContain('Unsubscribe: https://sb.acme.test/api/v1/unsubscribe?token=');
    const sample = (
      await t.inject({
        method: 'POST',
        url: `/api/v1/email-templates/${tpl.id}/preview`,
        headers: h,
        payload: { sample: { first_name: 'Sam' } },
      })
    ).json();
    expect(sample.subject).toBe('Welcome Sam');
  });

  it('unsubscribe: a GET (link scanner) only shows a page; a cookie-less POST suppresses at once (row 27)', async () => {
    const lead = (
      await t.inject({ method: 'POST', url: '/api/v1/leads', headers: h, payload: { email: 'unsub@example.com' } })
    ).json().lead;
    const token = t.app.get(EmailLinkTokens).unsubscribeToken(owner.workspace.id, lead.id);
    const url = `/api/v1/unsubscribe?token=${token}`;
    for (let i = 0; i < 3; i++) {
      const page = await t.inject({ url });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<form method="post"');
    }
    expect((await t.inject({ url: `/api/v1/leads/${lead.id}`, headers: h })).json().status).toBe('new');

    const post = await t.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect(post.headers['set-cookie']).toBeUndefined();
    expect((await t.inject({ url: `/api/v1/leads/${lead.id}`, headers: h })).json().status).toBe('unsubscribed');
    const suppressed = await t.runtime.database.pool.query(`select reason from suppressions where workspace_id = $1`, [
      owner.workspace.id,
    ]);
    expect(suppressed.rows).toContainEqual({ reason: 'unsubscribed' });
    // Idempotent; multipart (also allowed by RFC 8058) works too.
    const again = await t.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      payload: '--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--\r\n',
    });
    expect(again.statusCode).toBe(200);
    const activity = (await t.inject({ url: `/api/v1/leads/${lead.id}/activity`, headers: h })).json();
    expect(activity.data.filter((a: { type: string }) => a.type === 'unsubscribed')).toHaveLength(1);

    const forged = await t.inject({ method: 'POST', url: `/api/v1/unsubscribe?token=${token.slice(0, -3)}abc` });
    expect(forged.statusCode).toBe(400);
  });
});
