import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asWorkspaceId } from '../../src/auth/auth-context';
import { EffectInProgressError } from '../../src/jobs/effects';
import { EmailSenderService } from '../../src/modules/email/email-sender.service';
import { startHubSpotFake, type HubSpotFake } from '../fakes/hubspot';
import { bearer, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

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
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe.each(await dbTargets())('sequences, send-time checks and the CRM sync (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;
  let smtp: SMTPServer;
  let hubspot: HubSpotFake;
  const delivered: string[] = [];
  let templateId: string;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _s, cb) {
        if (address.address.startsWith('bounce'))
          return cb(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
        cb();
      },
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          delivered.push(...session.envelope.rcptTo.map((r) => r.address));
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    hubspot = await startHubSpotFake('pat-na1-sequences');
    t = await startTestApp(target, {
      role: 'all',
      env: {
        SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}`,
        HUBSPOT_API_BASE_URL: hubspot.url,
        RATE_LIMIT_MAX: '100000',
      },
    });
    owner = await registerUser(t);
    h = bearer(owner.access_token);
    templateId = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/email-templates',
        headers: h,
        payload: { name: 'step', subject: 'Step for {{lead.email}}', html: '<p>Hello</p>', text: 'Hello' },
      })
    ).json().id;
  });
  afterAll(async () => {
    await t?.close();
    await hubspot?.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  const lead = async (payload: object) =>
    (await t.inject({ method: 'POST', url: '/api/v1/leads', headers: h, payload })).json<{ lead: { id: string } }>().lead.id;
  const sequence = async (delays: number[]) => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/sequences',
      headers: h,
      payload: {
        name: `manual ${delays.join('/')}`,
        trigger: { type: 'manual' },
        steps: delays.map((d) => ({ delay_seconds: d, template_id: templateId })),
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  };
  const enrol = (seq: string, leadId: string) =>
    t.inject({ method: 'POST', url: `/api/v1/sequences/${seq}/enrolments`, headers: h, payload: { lead_id: leadId } });
  const sends = async (leadId: string) =>
    (
      await t.runtime.database.pool.query(
        `select status, skip_reason from email_sends where lead_id = $1 and kind = 'sequence' order by id`,
        [leadId],
      )
    ).rows;
  const enrolment = async (seq: string) =>
    (await t.inject({ url: `/api/v1/sequences/${seq}/enrolments`, headers: h })).json<{
      data: Array<{ status: string; exit_reason: string | null; lead_id: string }>;
    }>().data;

  it('enrols manually once and sends each step once', async () => {
    const seq = await sequence([0, 1]);
    const id = await lead({ email: 'ok@example.com' });
    expect((await enrol(seq, id)).statusCode).toBe(201);
    expect((await enrol(seq, id)).statusCode).toBe(200);
    await until(async () => (await enrolment(seq))[0]?.status === 'completed', 30_000, 'the sequence to complete').catch((e) => {
      console.log(
        t.logLines
          .filter((l) => !l.includes('request completed') && /sequence|job|delayed|step|email/i.test(l))
          .slice(-30)
          .join('\n'),
      );
      throw e;
    });
    expect(await sends(id)).toEqual([
      { status: 'sent', skip_reason: null },
      { status: 'sent', skip_reason: null },
    ]);
    expect(delivered.filter((a) => a === 'ok@example.com')).toHaveLength(2);
  });

  it('skips a step at send time for a suppressed address and exits (row 28)', async () => {
    const seq = await sequence([2]);
    const id = await lead({ email: 'quiet@example.com' });
    expect((await enrol(seq, id)).statusCode).toBe(201);
    // Suppressed behind the sequence's back (no event): only the send-time check can catch it.
    await t.runtime.database.pool.query(
      `insert into suppressions (workspace_id, email_hash, reason) values ($1, encode(sha256(convert_to($2 || ':quiet@example.com', 'UTF8')), 'hex'), 'unsubscribed')`,
      [owner.workspace.id, owner.workspace.id],
    );
    await until(async () => (await enrolment(seq))[0]?.status === 'exited', 20_000, 'the exit');
    expect((await enrolment(seq))[0].exit_reason).toBe('unsubscribed');
    expect(await sends(id)).toEqual([{ status: 'skipped', skip_reason: 'suppressed:unsubscribed' }]);
    expect(delivered).not.toContain('quiet@example.com');
  });

  it('marks a refused address bounced, suppresses it and exits (row 28)', async () => {
    const seq = await sequence([0, 1]);
    const id = await lead({ email: 'bounce@example.com' });
    await enrol(seq, id);
    await until(async () => (await enrolment(seq))[0]?.status === 'exited', 20_000, 'the bounce exit');
    expect((await enrolment(seq))[0].exit_reason).toBe('bounced');
    expect((await t.inject({ url: `/api/v1/leads/${id}`, headers: h })).json().status).toBe('bounced');
    expect((await sends(id)).map((s) => s.status)).toEqual(['bounced']);
  });

  it('holds unconfirmed leads and skips a step that falls due while unconfirmed (row 28)', async () => {
    const seq = await sequence([0]);
    const pending = await lead({ email: 'pending@example.com', consent: { status: 'pending' } });
    expect((await enrol(seq, pending)).json().status).toBe('waiting_confirmation');

    const seq2 = await sequence([3]);
    const later = await lead({ email: 'later@example.com' });
    await enrol(seq2, later);
    await t.inject({ method: 'PATCH', url: `/api/v1/leads/${later}`, headers: h, payload: { consent: { status: 'pending' } } });
    await until(async () => (await enrolment(seq2))[0]?.status === 'completed', 20_000, 'the step to be processed');
    expect(await sends(later)).toEqual([{ status: 'skipped', skip_reason: 'unconfirmed' }]);
    expect(await sends(pending)).toEqual([]);
    // Both got the double-opt-in confirmation instead (consent became pending).
    await until(
      async () =>
        (
          await t.runtime.database.pool.query(
            `select count(*)::int as n from email_sends where kind = 'confirmation' and status = 'sent' and lead_id = any($1)`,
            [[pending, later]],
          )
        ).rows[0].n === 2,
      20_000,
      'both confirmation emails',
    );
  });

  it('sends once per (enrolment, step) even when the step job runs again or twice at once (row 19)', async () => {
    const sender = t.app.get(EmailSenderService);
    const id = await lead({ email: 'once@example.com' });
    const step = {
      enrolmentId: '01900000-0000-7000-8000-0000000000aa',
      sequenceId: '01900000-0000-7000-8000-0000000000bb',
      stepIndex: 0,
      templateId,
      leadId: id,
      campaignId: null,
    };
    const ws = asWorkspaceId(owner.workspace.id);
    const concurrent = await Promise.allSettled([sender.sendSequenceStep(ws, step), sender.sendSequenceStep(ws, step)]);
    // The loser of the race is told to come back later (the job is delayed, not failed), never sends.
    for (const r of concurrent) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(EffectInProgressError);
    const again = await sender.sendSequenceStep(ws, step);
    expect(again).toMatchObject({ status: 'sent', repeated: true });
    expect(delivered.filter((a) => a === 'once@example.com')).toHaveLength(1);
    expect(await sends(id)).toEqual([{ status: 'sent', skip_reason: null }]);
  });

  it('removes a lead from a sequence before its next step', async () => {
    const seq = await sequence([30]);
    const id = await lead({ email: 'removed@example.com' });
    await enrol(seq, id);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/sequences/${seq}/enrolments/${id}`, headers: h })).statusCode).toBe(
      204,
    );
    expect((await enrolment(seq))[0]).toMatchObject({ status: 'exited', exit_reason: 'removed' });
  });

  it('stores the HubSpot token encrypted, never returns it, and retries after 429', async () => {
    const put = await t.inject({
      method: 'PUT',
      url: '/api/v1/integrations/hubspot',
      headers: h,
      payload: { private_app_token: 'pat-na1-sequences' },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.body).not.toContain('pat-na1-sequences');
    const stored = await t.runtime.database.pool.query(`select crm_connections::text as row from crm_connections`);
    expect(stored.rows[0].row).not.toContain('pat-na1-sequences');
    expect(stored.rows[0].row).toMatch(/v1\.[\w-]+\./);

    hubspot.failNext({
      status: 429,
      headers: { 'retry-after': '1' },
      body: '{"status":"error","message":"TEN_SECONDLY_ROLLING"}',
    });
    await lead({ email: 'crm@example.com', first_name: 'Cam', company: 'Crm Co' });
    await hubspot.waitFor(() => hubspot.contacts.has('crm@example.com'), 30_000);
    expect(hubspot.contacts.get('crm@example.com')!.properties).toMatchObject({ firstname: 'Cam', company: 'Crm Co' });
    expect(hubspot.upserts.length).toBeGreaterThanOrEqual(2);
    const status = (await t.inject({ url: '/api/v1/integrations/hubspot', headers: h })).json();
    expect(status).toMatchObject({ connected: true, enabled: true });
  });
});
