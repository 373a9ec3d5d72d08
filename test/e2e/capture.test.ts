import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createApiKey, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

const ORIGIN = 'https://www.acme.test';

async function until<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(await dbTargets())('public capture (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;
  let pk: string;
  let ip = 0;
  /** Each test posts from its own client address, so per-IP limits do not leak between tests. */
  const nextIp = () => `203.0.113.${++ip}`;
  const capture = (payload: object | string, opts: { headers?: Record<string, string>; ip?: string; query?: string } = {}) =>
    t.inject({
      method: 'POST',
      url: `/api/v1/capture${opts.query ?? ''}`,
      remoteAddress: opts.ip ?? nextIp(),
      headers: { 'x-api-key': pk, ...opts.headers },
      payload,
    });
  const leadByEmail = async (email: string) =>
    (await t.inject({ url: `/api/v1/leads?q=${encodeURIComponent(email)}`, headers: h })).json<{
      data: Array<Record<string, unknown>>;
    }>().data[0] as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    t = await startTestApp(target, {
      role: 'all',
      env: {
        CAPTURE_RATE_LIMIT_PER_IP: '20',
        CAPTURE_RATE_LIMIT_PER_EMAIL: '3',
        CAPTURE_RATE_LIMIT_WINDOW_MS: '60000',
        RATE_LIMIT_MAX: '100000',
        PUBLIC_URL: 'https://sb.acme.test',
      },
    });
    owner = await registerUser(t);
    h = bearer(owner.access_token);
    pk = (await createApiKey(t, owner.access_token, ['leads:capture'], { allowed_origins: [ORIGIN] })).key;
  });
  afterAll(() => t?.close());

  it('accepts JSON with a publishable key: 202, then the lead exists (created through the outbox path)', async () => {
    const res = await capture({ email: 'json@example.com', first_name: 'Jay', tags: ['webinar'], utm_campaign: 'spring' });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', request_id: expect.any(String) });
    const lead = await leadByEmail('json@example.com');
    expect(lead).toMatchObject({
      first_name: 'Jay',
      tags: ['webinar'],
      consent: { status: 'none' },
      utm: { first_touch: { utm_campaign: 'spring' } },
    });
    const events = await t.runtime.database.pool.query(`select type, payload from events where payload->>'lead_id' = $1`, [
      lead!.id,
    ]);
    expect(events.rows).toEqual([{ type: 'lead.created', payload: { lead_id: lead!.id, source: 'capture', campaign_id: null } }]);
  });

  it('takes plain HTML form posts with the key in the query, with CORS for the key’s origins', async () => {
    const res = await capture(
      'email=form%40example.com&first_name=Flo&consent=on&consent_wording=Send+me+news&custom.plan=pro&tags=a%2Cb',
      {
        headers: { 'x-api-key': '', 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
        query: `?key=${pk}`,
      },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    const lead = await leadByEmail('form@example.com');
    expect(lead).toMatchObject({
      first_name: 'Flo',
      tags: ['a', 'b'],
      custom_fields: { plan: 'pro' },
      consent: { status: 'granted', wording: 'Send me news', ip: expect.stringMatching(/^203\.0\.113\./) },
    });
  });

  it('refuses other origins, secret keys and missing keys', async () => {
    const other = await capture({ email: 'evil@example.com' }, { headers: { origin: 'https://evil.test' } });
    expect(other.statusCode).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const secret = await createApiKey(t, owner.access_token, ['leads:write']);
    expect((await capture({ email: 'sk@example.com' }, { headers: { 'x-api-key': secret.key } })).statusCode).toBe(403);
    expect((await capture({ email: 'nokey@example.com' }, { headers: { 'x-api-key': '' } })).statusCode).toBe(401);
    expect(await leadByEmail('evil@example.com')).toBeUndefined();
  });

  it('answers the CORS preflight from the key’s allowed origins', async () => {
    const ok = await t.inject({
      method: 'OPTIONS',
      url: `/api/v1/capture?key=${pk}`,
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(ok.headers['access-control-allow-methods']).toContain('POST');
    const bad = await t.inject({
      method: 'OPTIONS',
      url: `/api/v1/capture?key=${pk}`,
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('accepts and ignores a filled honeypot', async () => {
    const res = await capture({ email: 'bot@example.com', _hp: 'http://spam.example' });
    expect(res.statusCode).toBe(202);
    expect(await leadByEmail('bot@example.com')).toBeUndefined();
  });

  it('lists invalid and unknown fields with 400 (CORS headers kept so the page can read it)', async () => {
    const res = await capture({ email: 'nope', first_name: 'A\u202Eb', admin: true }, { headers: { origin: ORIGIN } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(
      res
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['admin', 'email', 'first_name']);
  });

  it('rate-limits per IP and per email with 429 + Retry-After; repeats merge, at most one welcome email (row 5)', async () => {
    const tpl = await t.inject({
      method: 'POST',
      url: '/api/v1/email-templates',
      headers: h,
      payload: { name: 'welcome', subject: 'Welcome', html: '<p>Welcome</p>', text: 'Welcome' },
    });
    const seq = await t.inject({
      method: 'POST',
      url: '/api/v1/sequences',
      headers: h,
      payload: {
        name: 'welcome',
        trigger: { type: 'lead_captured', tag: 'flood' },
        steps: [{ delay_seconds: 0, template_id: tpl.json().id }],
      },
    });
    expect(seq.statusCode, seq.body).toBe(201);

    const ipA = nextIp();
    const fromOneIp: number[] = [];
    for (let i = 0; i < 25; i++) fromOneIp.push((await capture({ email: `ip${i}@example.com` }, { ip: ipA })).statusCode);
    expect(fromOneIp.slice(0, 20).every((s) => s === 202)).toBe(true);
    expect(fromOneIp.slice(20).every((s) => s === 429)).toBe(true);
    const limited = await capture({ email: 'ip-last@example.com' }, { ip: ipA });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/problem\+json/);

    const oneEmail: number[] = [];
    for (let i = 0; i < 6; i++) oneEmail.push((await capture({ email: 'flood@example.com', tags: ['flood'] })).statusCode);
    expect(oneEmail).toEqual([202, 202, 202, 429, 429, 429]);
    const lead = await leadByEmail('flood@example.com');
    await until(
      async () =>
        (await t.runtime.database.pool.query(`select 1 from email_sends where lead_id = $1 and status = 'sent'`, [lead!.id]))
          .rowCount,
      15_000,
      'the welcome email',
    );
    await new Promise((r) => setTimeout(r, 1500));
    const sent = await t.runtime.database.pool.query(`select count(*)::int as n from email_sends where lead_id = $1`, [lead!.id]);
    expect(sent.rows[0].n).toBe(1);
  });

  it('double opt-in: pending until the emailed link is confirmed by POST; sequences wait for it (row 28)', async () => {
    const settings = await t.inject({
      method: 'PUT',
      url: '/api/v1/capture/settings',
      headers: h,
      payload: { double_opt_in: true },
    });
    expect(settings.json()).toEqual({ double_opt_in: true, confirmation_redirect_url: null });
    const tpl = await t.inject({
      method: 'POST',
      url: '/api/v1/email-templates',
      headers: h,
      payload: { name: 'doi welcome', subject: 'Hello {{lead.first_name}}', html: '<p>Hello</p>', text: 'Hello' },
    });
    await t.inject({
      method: 'POST',
      url: '/api/v1/sequences',
      headers: h,
      payload: {
        name: 'doi',
        trigger: { type: 'lead_captured', tag: 'doi' },
        steps: [{ delay_seconds: 0, template_id: tpl.json().id }],
      },
    });

    expect((await capture({ email: 'doi@example.com', first_name: 'Dee', tags: ['doi'], consent: true })).statusCode).toBe(202);
    const lead = (await leadByEmail('doi@example.com'))!;
    expect(lead.consent.status).toBe('pending');

    // The confirmation email is written to <data dir>/mail (no SMTP_URL) with a signed link.
    const mailDir = path.join(t.config.dataDir, 'mail');
    const file = await until(
      () => fs.existsSync(mailDir) && fs.readdirSync(mailDir).find((f) => f.includes(lead.id) && f.endsWith('.eml')),
      15_000,
      'the confirmation email',
    );
    const raw = fs.readFileSync(path.join(mailDir, file), 'utf8').replace(/=\r?\n/g, '');
    const link = /https:\/\/sb\.acme\.test(\/api\/v1\/capture\/confirm\?token=[\w.=-]+)/.exec(raw.replace(/=3D/g, '='))![1];

    // Nothing marketing goes out while pending.
    await new Promise((r) => setTimeout(r, 1500));
    const before = await t.runtime.database.pool.query(`select kind, status from email_sends where lead_id = $1 order by id`, [
      lead.id,
    ]);
    expect(before.rows).toEqual([{ kind: 'confirmation', status: 'sent' }]);

    // A link scanner's GET changes nothing; the button's POST confirms.
    const page = await t.inject({ url: link });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('method="post"');
    expect((await leadByEmail('doi@example.com'))!.consent.status).toBe('pending');
    const confirmed = await t.inject({ method: 'POST', url: link });
    expect(confirmed.statusCode).toBe(200);
    const after = (await leadByEmail('doi@example.com'))!;
    expect(after.consent.status).toBe('granted');
    expect(after.confirmed_at).not.toBeNull();
    await until(
      async () =>
        (
          await t.runtime.database.pool.query(
            `select 1 from email_sends where lead_id = $1 and kind = 'sequence' and status = 'sent'`,
            [lead.id],
          )
        ).rowCount,
      15_000,
      'the sequence email after confirmation',
    );
    expect((await t.inject({ method: 'POST', url: link.replace(/token=.{8}/, 'token=AAAAAAAA') })).statusCode).toBe(400);
    await t.inject({ method: 'PUT', url: '/api/v1/capture/settings', headers: h, payload: { double_opt_in: false } });
  });
});
