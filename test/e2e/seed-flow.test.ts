import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotFake, type HubSpotFake } from '../fakes/hubspot';
import { bearer, createApiKey, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

interface Received {
  to: string[];
  raw: string;
  at: number;
}

/** A real SMTP peer (smtp-server) that keeps every message it is given. */
async function startSmtp(): Promise<{ port: number; messages: Received[]; close(): Promise<void> }> {
  const messages: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as { port: number }).port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A header of a raw message, unfolded (RFC 5322 long lines continue with whitespace). */
const header = (raw: string, name: string) => {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1]?.trim();
};
const FOLLOW_UP_DELAY_S = 8;

/**
 * The seed's flow, end to end: a form post to /capture → lead created → the `welcome` sequence
 * email reaches a real SMTP server with the one-click headers → the HubSpot fake receives the
 * upsert → the same capture again merges (no second welcome) → a one-click unsubscribe POST
 * stops the next step.
 */
describe.each(await dbTargets())('seed flow: capture → welcome email → CRM → merge → unsubscribe (%s)', (target) => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let hubspot: HubSpotFake;
  let owner: RegisteredUser;
  let key: string;
  let sequenceId: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    hubspot = await startHubSpotFake('pat-na1-seed-flow');
    t = await startTestApp(target, {
      role: 'all',
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        EMAIL_FROM: 'Acme <hello@acme.test>',
        HUBSPOT_API_BASE_URL: hubspot.url,
        PUBLIC_URL: 'https://sb.acme.test',
        RATE_LIMIT_MAX: '100000',
      },
    });
    owner = await registerUser(t, { workspace_name: 'Acme' });
    const h = bearer(owner.access_token);
    key = (await createApiKey(t, owner.access_token, ['leads:capture'], { allowed_origins: ['https://www.acme.test'] })).key;
    const tpl = async (name: string, subject: string) => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/email-templates',
        headers: h,
        payload: { name, subject, html: `<p>Hi {{lead.first_name}}, ${name}!</p>`, text: `Hi {{lead.first_name}}, ${name}!` },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string }>().id;
    };
    const welcome = await tpl('welcome', 'Welcome, {{lead.first_name}}');
    const followUp = await tpl('follow-up', 'Still there, {{lead.first_name}}?');
    const seq = await t.inject({
      method: 'POST',
      url: '/api/v1/sequences',
      headers: h,
      payload: {
        name: 'welcome',
        trigger: { type: 'lead_captured' },
        steps: [
          { delay_seconds: 0, template_id: welcome },
          { delay_seconds: FOLLOW_UP_DELAY_S, template_id: followUp },
        ],
      },
    });
    expect(seq.statusCode, seq.body).toBe(201);
    sequenceId = seq.json<{ id: string }>().id;
    const connected = await t.inject({
      method: 'PUT',
      url: '/api/v1/integrations/hubspot',
      headers: h,
      payload: { private_app_token: 'pat-na1-seed-flow' },
    });
    expect(connected.statusCode, connected.body).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await hubspot?.close();
    await smtp?.close();
  });

  const capture = () =>
    t.inject({
      method: 'POST',
      url: `/api/v1/capture?key=${key}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://www.acme.test' },
      payload: 'email=+Ann%40Example.COM+&first_name=Ann&utm_source=newsletter&consent=on&_hp=',
    });

  it('runs the whole flow', async () => {
    const started = Date.now();
    const first = await capture();
    expect(first.statusCode, first.body).toBe(202);
    expect(first.headers['access-control-allow-origin']).toBe('https://www.acme.test');

    // The welcome email arrives at the real SMTP server within 5 s, with the one-click headers.
    const welcome = await until(
      () => smtp.messages.find((m) => /Subject: Welcome, Ann/.test(m.raw)),
      15_000,
      'the welcome email',
    );
    if (target === 'pglite') expect(welcome.at - started).toBeLessThan(5000);
    expect(welcome.to).toEqual(['ann@example.com']);
    const listUnsubscribe = header(welcome.raw, 'List-Unsubscribe');
    expect(listUnsubscribe).toMatch(/^<https:\/\/sb\.acme\.test\/api\/v1\/unsubscribe\?token=[\w.-]+>$/);
    expect(header(welcome.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(welcome.raw).toContain('Hi Ann, welcome!');

    // The CRM is told: HubSpot's batch upsert by email.
    await hubspot.waitFor(() => hubspot.contacts.has('ann@example.com'), 15_000);
    const upsert = hubspot.upserts[0];
    expect(upsert.authorization).toBe('Bearer pat-na1-seed-flow');
    expect(upsert.body).toEqual({
      inputs: [{ idProperty: 'email', id: 'ann@example.com', properties: { email: 'ann@example.com', firstname: 'Ann' } }],
    });

    // The same capture again merges: no second lead, no second welcome email.
    const again = await capture();
    expect(again.statusCode).toBe(202);
    const leads = (await t.inject({ url: '/api/v1/leads?q=ann%40example.com', headers: bearer(owner.access_token) })).json<{
      data: Array<{ id: string; email: string }>;
    }>();
    expect(leads.data).toHaveLength(1);
    const leadId = leads.data[0].id;
    await until(
      async () => {
        const activity = (await t.inject({ url: `/api/v1/leads/${leadId}/activity`, headers: bearer(owner.access_token) })).json<{
          data: Array<{ type: string }>;
        }>();
        return activity.data.some((a) => a.type === 'merged');
      },
      5000,
      'the merge',
    );

    // One-click unsubscribe: a bare POST (no cookie, no credential) to the List-Unsubscribe URL.
    const url = new URL(listUnsubscribe!.slice(1, -1));
    const unsubscribed = await t.inject({
      method: 'POST',
      url: `${url.pathname}${url.search}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribed.statusCode, unsubscribed.body).toBe(200);
    const lead = (await t.inject({ url: `/api/v1/leads/${leadId}`, headers: bearer(owner.access_token) })).json<{
      status: string;
    }>();
    expect(lead.status).toBe('unsubscribed');

    // The follow-up step falls due and is not sent; the enrolment has exited.
    await new Promise((r) => setTimeout(r, Math.max(0, welcome.at + (FOLLOW_UP_DELAY_S + 3) * 1000 - Date.now())));
    const enrolments = (
      await t.inject({ url: `/api/v1/sequences/${sequenceId}/enrolments`, headers: bearer(owner.access_token) })
    ).json<{ data: Array<{ status: string; exit_reason: string | null }> }>();
    expect(enrolments.data).toEqual([expect.objectContaining({ status: 'exited', exit_reason: 'unsubscribed' })]);
    expect(smtp.messages.filter((m) => m.to.includes('ann@example.com'))).toHaveLength(1);
  });
});
