import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marketingMail, renderTemplate } from './compose';
import { CONFIRM_TOKEN_TTL_SECONDS, EmailTokens } from './email-tokens';
import { FileMailTransport, MailSendError, SmtpMailTransport } from './mail-transport';
import { renderHtml, renderSubject, renderText, templateProblems, templateVariables } from './template-engine';

const lead = { email: 'ann@example.com', first_name: '<b>Ann</b> & "Co"', last_name: 'Lee', custom_fields: { plan: 'pro' } };

describe('email templates', () => {
  it('HTML-escapes variables in HTML and leaves text parts plain', () => {
    const ctx = { lead, unsubscribe_url: 'https://x/u' };
    expect(renderHtml('<p>Hi {{lead.first_name}}</p>', ctx)).toBe('<p>Hi &lt;b&gt;Ann&lt;&#x2F;b&gt; &amp; &quot;Co&quot;</p>');
    expect(renderText('Hi {{lead.first_name}}', ctx)).toBe('Hi <b>Ann</b> & "Co"');
    expect(renderText('{{lead.full_name}} on {{lead.custom.plan}}', ctx)).toBe('<b>Ann</b> & "Co" Lee on pro');
    expect(renderText('{{#lead.company}}at {{lead.company}}{{/lead.company}}{{^lead.company}}solo{{/lead.company}}', ctx)).toBe(
      'solo',
    );
  });

  it('keeps subjects on one line', () => {
    expect(renderSubject('Hello {{lead.custom.note}}', { lead: { ...lead, custom_fields: { note: 'a\r\nBcc: x@y' } } })).toBe(
      'Hello a Bcc: x@y',
    );
  });

  it('rejects unknown variables, unescaped output, partials and syntax errors on save', () => {
    expect(templateProblems('html', '<p>{{lead.first_name}} {{lead.custom.plan}} {{unsubscribe_url}}</p>')).toEqual([]);
    expect(templateProblems('html', '{{lead.password}}')).toEqual([
      { part: 'html', message: 'Unknown variable {{lead.password}}' },
    ]);
    expect(templateProblems('html', '{{#lead.first_name}}{{nope}}{{/lead.first_name}}')[0].message).toContain('{{nope}}');
    expect(templateProblems('html', '{{{lead.first_name}}}')[0].message).toMatch(/Unescaped/);
    expect(templateProblems('html', '{{& lead.first_name}}')[0].message).toMatch(/Unescaped/);
    expect(templateProblems('html', '{{> footer}}')[0].message).toMatch(/Partials/);
    expect(templateProblems('html', '{{=<% %>=}}')[0].message).toMatch(/delimiters/);
    expect(templateProblems('subject', '{{#lead.first_name}}unclosed')).toHaveLength(1);
    expect(templateVariables('{{lead.email}} {{#lead.company}}{{lead.company}}{{/lead.company}}').sort()).toEqual([
      'lead.company',
      'lead.email',
    ]);
  });

  it('always carries an unsubscribe link', () => {
    const ctx = { lead, unsubscribe_url: 'https://sb.example/u?t=a&b' };
    const auto = renderTemplate({ subject: 'Hi', html: '<html><body><p>x</p></body></html>', text: 'x' }, ctx);
    expect(auto.html).toContain('<a href="https://sb.example/u?t=a&amp;b">Unsubscribe</a>.</p></body>');
    expect(auto.text).toContain('Unsubscribe: https://sb.example/u?t=a&b');
    const own = renderTemplate(
      { subject: 'Hi', html: '<a href="{{unsubscribe_url}}">stop</a>', text: 'Stop: {{unsubscribe_url}}' },
      ctx,
    );
    expect(own.html).toBe('<a href="https:&#x2F;&#x2F;sb.example&#x2F;u?t&#x3D;a&amp;b">stop</a>');
    expect(own.text).toBe('Stop: https://sb.example/u?t=a&b');
  });
});

describe('signed email tokens', () => {
  const tokens = new EmailTokens('k'.repeat(64));

  it('round-trips and refuses tampering, the wrong purpose, other keys and expiry', () => {
    const t = tokens.unsubscribeToken('ws-1', 'lead-1');
    expect(tokens.verify(t, 'unsubscribe')).toMatchObject({ workspaceId: 'ws-1', leadId: 'lead-1' });
    expect(tokens.verify(t, 'confirm')).toBeNull();
    const [body, mac] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ p: 'u', w: 'ws-1', l: 'lead-2' })).toString('base64url');
    expect(tokens.verify(`${forged}.${mac}`, 'unsubscribe')).toBeNull();
    expect(tokens.verify(`${body}.${mac.slice(0, -2)}`, 'unsubscribe')).toBeNull();
    expect(tokens.verify('garbage', 'unsubscribe')).toBeNull();
    expect(new EmailTokens('o'.repeat(64)).verify(t, 'unsubscribe')).toBeNull();

    const now = Date.now();
    const c = tokens.confirmToken('ws-1', 'lead-1', now);
    expect(tokens.verify(c, 'confirm', now)).not.toBeNull();
    expect(tokens.verify(c, 'confirm', now + (CONFIRM_TOKEN_TTL_SECONDS + 1) * 1000)).toBeNull();
  });

  it('still verifies tokens signed with a previous key', () => {
    const old = new EmailTokens('old'.repeat(20)).unsubscribeToken('w', 'l');
    expect(new EmailTokens('new'.repeat(20), ['old'.repeat(20)]).verify(old, 'unsubscribe')).not.toBeNull();
  });
});

describe('mail transports', () => {
  const received: Array<{ from: string; to: string[]; raw: string }> = [];
  let server: SMTPServer;
  let port: number;
  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, cb) {
        if (address.address.startsWith('bounce')) return cb(Object.assign(new Error('No such user'), { responseCode: 550 }));
        cb();
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const mail = marketingMail(
    { subject: 'Welcome', html: '<p>Hi</p>', text: 'Hi' },
    {
      from: 'Team <team@sb.test>',
      to: 'ann@example.com',
      unsubscribeUrl: 'https://sb.test/u/abc',
      messageId: '<send-1@sb.test>',
    },
  );

  it('sends over SMTP with the RFC 8058 one-click headers and the stable Message-ID', async () => {
    const smtp = new SmtpMailTransport(`smtp://127.0.0.1:${port}`);
    try {
      const sent = await smtp.send(mail);
      expect(sent.messageId).toBe('<send-1@sb.test>');
      expect(sent.accepted).toEqual(['ann@example.com']);
    } finally {
      smtp.close();
    }
    const msg = received.at(-1)!;
    expect(msg.to).toEqual(['ann@example.com']);
    expect(msg.raw).toMatch(/^List-Unsubscribe: <https:\/\/sb\.test\/u\/abc>/m);
    expect(msg.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(msg.raw).toMatch(/^Message-ID: <send-1@sb\.test>/im);
  });

  it('classifies a refused recipient as a permanent bounce', async () => {
    const smtp = new SmtpMailTransport(`smtp://127.0.0.1:${port}`);
    try {
      const err = await smtp.send({ ...mail, to: 'bounce@example.com' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailSendError);
      expect(err).toMatchObject({ permanent: true, bounced: true, responseCode: 550 });
    } finally {
      smtp.close();
    }
  });

  it('classifies an unreachable server as temporary', async () => {
    const smtp = new SmtpMailTransport(`smtp://127.0.0.1:1?pool=false`);
    try {
      const err = await smtp.send(mail).catch((e: unknown) => e);
      expect(err).toMatchObject({ permanent: false, bounced: false });
    } finally {
      smtp.close();
    }
  });

  it('writes .eml files named by lead and can erase them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-mail-'));
    const lines: unknown[] = [];
    const files = new FileMailTransport(dir, { info: (obj: unknown) => void lines.push(obj) });
    try {
      const sent = await files.send(mail, { leadId: '0190-lead-a', sendId: 'send-1' });
      await files.send(mail, { leadId: '0190-lead-b', sendId: 'send-2' });
      const raw = fs.readFileSync(sent.file!, 'utf8');
      expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
      expect(raw).toContain('To: ann@example.com');
      expect(JSON.stringify(lines)).not.toContain('ann@example.com');
      expect(await files.eraseLead('0190-lead-a')).toBe(1);
      expect(fs.readdirSync(dir)).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
