import fs from 'node:fs';
import path from 'node:path';
// Mail: nodemailer (SMTP with a connection pool; its stream transport renders .eml files).
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Stable Message-ID (`<id@domain>`): a re-send after a crash reuses it, so clients can dedupe. */
  messageId?: string;
  /** Adds `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058). */
  listUnsubscribeUrl?: string;
  headers?: Record<string, string>;
}

export interface SentMail {
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
  /** Embedded mode: the .eml file written. */
  file?: string;
}

/** Who a message is about, for file names (so erasure can find the files) and logs. */
export interface MailMeta {
  leadId?: string;
  sendId?: string;
}

/** A send failure. `permanent` failures are not retried; `bounced` means the address was refused. */
export class MailSendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly bounced: boolean,
    readonly responseCode?: number,
  ) {
    super(message);
    this.name = 'MailSendError';
  }
}

export interface MailTransport {
  readonly kind: 'smtp' | 'file';
  send(mail: OutgoingMail, meta?: MailMeta): Promise<SentMail>;
  /** Removes stored copies of a lead's mail (GDPR erasure). Returns how many were removed. */
  eraseLead(leadId: string): Promise<number>;
  close(): void;
}

function toNodemailer(mail: OutgoingMail): SendMailOptions {
  const headers: Record<string, string> = { ...(mail.headers ?? {}) };
  if (mail.listUnsubscribeUrl) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  return {
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    messageId: mail.messageId,
    headers,
    // nodemailer writes `List-Unsubscribe: <url>` from this (no comment: strict one-click parsers want only the URI).
    list: mail.listUnsubscribeUrl ? { unsubscribe: mail.listUnsubscribeUrl } : undefined,
  };
}

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

export function classifySmtpError(err: NodemailerError): MailSendError {
  const code = err.responseCode;
  if (code && code >= 500 && code < 600) {
    // 5xx: the server will not take this message; EENVELOPE/550-class on RCPT means the address bounced.
    const bounced = err.code === 'EENVELOPE' || [550, 551, 553].includes(code);
    return new MailSendError(`SMTP ${code}: ${err.response ?? err.message}`, true, bounced, code);
  }
  return new MailSendError(`SMTP ${code ?? err.code ?? 'error'}: ${err.message}`, false, false, code);
}

/** SMTP through nodemailer's pooled transport (`SMTP_URL`, e.g. `smtps://user:pass@host:465`). */
export class SmtpMailTransport implements MailTransport {
  readonly kind = 'smtp' as const;
  private readonly transporter: Transporter;

  constructor(url: string) {
    // Settings in the URL (e.g. `?pool=false`) win over these defaults.
    this.transporter = nodemailer.createTransport({
      url,
      pool: true,
      maxConnections: 5,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    try {
      const info = (await this.transporter.sendMail(toNodemailer(mail))) as {
        messageId: string;
        accepted: Array<string | { address: string }>;
        rejected: Array<string | { address: string }>;
        response: string;
      };
      const addr = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);
      return {
        messageId: info.messageId,
        accepted: info.accepted.map(addr),
        rejected: info.rejected.map(addr),
        response: info.response,
      };
    } catch (err) {
      throw classifySmtpError(err as NodemailerError);
    }
  }

  async eraseLead(): Promise<number> {
    return 0; // nothing is stored locally
  }

  close(): void {
    this.transporter.close();
  }
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64) || 'x';

/**
 * Embedded mode without SMTP_URL: each message is rendered exactly as it would be sent and
 * written to `<dir>/<time>_<lead id>_<send id>.eml` (open it in any mail client), plus a log
 * line without the address.
 */
export class FileMailTransport implements MailTransport {
  readonly kind = 'file' as const;
  private readonly transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

  constructor(
    readonly dir: string,
    private readonly log?: Pick<Logger, 'info'>,
  ) {}

  async send(mail: OutgoingMail, meta: MailMeta = {}): Promise<SentMail> {
    const info = await this.transporter.sendMail(toNodemailer(mail));
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(
      this.dir,
      `${stamp}_${safeName(meta.leadId ?? 'nolead')}_${safeName(meta.sendId ?? info.messageId.replace(/@.*/, ''))}.eml`,
    );
    // Written under a temporary name and renamed: a reader never sees half a message.
    const partial = `${file}.partial`;
    await fs.promises.writeFile(partial, info.message as Buffer, { mode: 0o600 });
    await fs.promises.rename(partial, file);
    this.log?.info(
      { file, message_id: info.messageId, lead_id: meta.leadId, send_id: meta.sendId },
      'email written to a file (SMTP_URL is not set)',
    );
    return { messageId: info.messageId, accepted: [mail.to], rejected: [], response: 'written to file', file };
  }

  async eraseLead(leadId: string): Promise<number> {
    const marker = `_${safeName(leadId)}_`;
    let removed = 0;
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return 0;
    }
    for (const name of names) {
      if (name.endsWith('.eml') && name.includes(marker)) {
        await fs.promises.rm(path.join(this.dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }

  close(): void {
    this.transporter.close();
  }
}

export function createMailTransport(opts: { smtpUrl?: string; dataDir: string; log?: Pick<Logger, 'info'> }): MailTransport {
  return opts.smtpUrl ? new SmtpMailTransport(opts.smtpUrl) : new FileMailTransport(path.join(opts.dataDir, 'mail'), opts.log);
}
