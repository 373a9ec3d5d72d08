import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { WorkspaceId } from '../../auth/auth-context';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { campaigns, workspaces } from '../../db/schema';
import { EffectsService } from '../../jobs/effects';
import { ROOT_LOGGER } from '../../observability/root-logger';
import type { LeadRecord } from '../leads/leads.repository';
import { LeadsService } from '../leads/leads.service';
import { marketingMail, renderTemplate, type TemplateParts } from './compose';
import { EmailLinkTokens } from './email-tokens';
import { EmailSendsRepository, type SendLog } from './email-sends.repository';
import { EmailTemplatesRepository } from './email-templates.repository';
import { MailSendError, type MailTransport } from './mail-transport';
import type { TemplateLead } from './template-engine';

export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

export type SendOutcome =
  | { status: 'sent'; messageId: string; repeated: boolean }
  | { status: 'skipped'; reason: string }
  | { status: 'bounced' | 'failed'; error: string };

export interface SequenceSend {
  enrolmentId: string;
  sequenceId: string;
  stepIndex: number;
  templateId: string;
  leadId: string;
  campaignId: string | null;
}

/** Lead statuses that never get marketing email. */
const NO_MARKETING = new Set(['unsubscribed', 'bounced']);
/** A send attempt may take this long before a re-delivered job may try again (SMTP timeouts are 30 s). */
const SEND_LEASE_MS = 120_000;

const leadForTemplate = (l: LeadRecord): TemplateLead => ({
  email: l.email,
  first_name: l.firstName,
  last_name: l.lastName,
  company: l.company,
  phone: l.phone,
  source: l.source,
  custom_fields: l.customFields as Record<string, unknown>,
});

const CONFIRMATION: TemplateParts = {
  subject: 'Please confirm your subscription',
  html:
    '<p>Hi{{#lead.first_name}} {{lead.first_name}}{{/lead.first_name}},</p>' +
    '<p>Please confirm that you want to receive our emails:</p><p><a href="{{confirm_url}}">Confirm my subscription</a></p>' +
    '<p>If you did not ask for this, ignore this email and you will not hear from us.</p>',
  text:
    'Hi{{#lead.first_name}} {{lead.first_name}}{{/lead.first_name}},\n\nPlease confirm that you want to receive our emails:\n' +
    '{{confirm_url}}\n\nIf you did not ask for this, ignore this email and you will not hear from us.\n',
};

/**
 * Sends email. Every send has an idempotency key (`seq:<enrolment>:<step>`, `confirm:<lead>:<day>`)
 * and runs through EffectsService.once, so a re-delivered job does not send twice; the Message-ID
 * is derived from the key, so even a re-send after a crash mid-SMTP carries the same Message-ID.
 * Marketing mail is checked at send time against the suppression list, the lead's status and a
 * pending double opt-in (reliability row 28); skipped sends are logged with their reason.
 */
@Injectable()
export class EmailSenderService implements OnApplicationShutdown {
  private readonly messageIdDomain: string;

  constructor(
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DRIZZLE) private readonly db: Db,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    private readonly effects: EffectsService,
    private readonly sends: EmailSendsRepository,
    private readonly templates: EmailTemplatesRepository,
    private readonly leads: LeadsService,
    private readonly tokens: EmailLinkTokens,
  ) {
    const from = /@([A-Za-z0-9.-]+)>?\s*$/.exec(config.EMAIL_FROM);
    this.messageIdDomain = from?.[1] ?? 'switchboard.local';
  }

  get transportKind(): MailTransport['kind'] {
    return this.transport.kind;
  }

  private messageId(ws: string, key: string): string {
    return `<${createHash('sha256').update(`${ws}:${key}`).digest('hex').slice(0, 32)}@${this.messageIdDomain}>`;
  }

  /** Why marketing email must not go to this lead now, or null. */
  async marketingBlock(ws: WorkspaceId, lead: LeadRecord): Promise<string | null> {
    if (NO_MARKETING.has(lead.status)) return lead.status;
    const suppressed = await this.leads.suppression(ws, lead.email);
    if (suppressed) return `suppressed:${suppressed}`;
    if (lead.consentStatus === 'pending') return 'unconfirmed';
    return null;
  }

  async sendSequenceStep(ws: WorkspaceId, s: SequenceSend): Promise<SendOutcome> {
    const key = `seq:${s.enrolmentId}:${s.stepIndex}`;
    const base: Omit<SendLog, 'status'> = {
      idempotencyKey: key,
      kind: 'sequence',
      leadId: s.leadId,
      templateId: s.templateId,
      sequenceId: s.sequenceId,
      enrolmentId: s.enrolmentId,
      stepIndex: s.stepIndex,
      campaignId: s.campaignId,
    };
    const done = await this.sends.byKey(ws, key);
    if (done?.status === 'sent') return { status: 'sent', messageId: done.messageId ?? '', repeated: true };

    const [lead] = await this.leads.byIds(ws, [s.leadId]);
    if (!lead) return this.skip(ws, { ...base, leadId: null }, 'lead_deleted');
    const blocked = await this.marketingBlock(ws, lead);
    if (blocked) return this.skip(ws, base, blocked);
    const template = await this.templates.findById(ws, s.templateId);
    if (!template) return this.skip(ws, base, 'template_missing');
    const context = await this.context(ws, s.campaignId);
    const unsubscribeUrl = this.tokens.unsubscribeUrl(ws, lead.id);
    const rendered = renderTemplate(template, { lead: leadForTemplate(lead), unsubscribe_url: unsubscribeUrl, ...context });
    return this.deliver(ws, base, lead, () =>
      marketingMail(rendered, {
        from: this.config.EMAIL_FROM,
        to: lead.email,
        unsubscribeUrl,
        messageId: this.messageId(ws, key),
      }),
    );
  }

  /** The double-opt-in email (at most one per lead per day). Not marketing: no suppression of `pending`. */
  async sendConfirmation(ws: WorkspaceId, leadId: string, day = new Date().toISOString().slice(0, 10)): Promise<SendOutcome> {
    const key = `confirm:${leadId}:${day}`;
    const base: Omit<SendLog, 'status'> = { idempotencyKey: key, kind: 'confirmation', leadId };
    const [lead] = await this.leads.byIds(ws, [leadId]);
    if (!lead) return this.skip(ws, { ...base, leadId: null }, 'lead_deleted');
    if (lead.consentStatus !== 'pending') return { status: 'skipped', reason: 'not_pending' };
    if (NO_MARKETING.has(lead.status) || (await this.leads.suppression(ws, lead.email))) return this.skip(ws, base, 'suppressed');
    const unsubscribeUrl = this.tokens.unsubscribeUrl(ws, lead.id);
    const context = await this.context(ws, null);
    const rendered = renderTemplate(CONFIRMATION, {
      lead: leadForTemplate(lead),
      unsubscribe_url: unsubscribeUrl,
      confirm_url: this.tokens.confirmUrl(ws, lead.id),
      ...context,
    });
    return this.deliver(ws, base, lead, () => ({
      from: this.config.EMAIL_FROM,
      to: lead.email,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId: this.messageId(ws, key),
      listUnsubscribeUrl: unsubscribeUrl,
    }));
  }

  private async context(ws: WorkspaceId, campaignId: string | null) {
    const [w] = await this.db.select({ name: workspaces.name }).from(workspaces).where(eq(workspaces.id, ws));
    let campaign: { name: string } | null = null;
    if (campaignId) {
      const [c] = await this.db
        .select({ name: campaigns.name })
        .from(campaigns)
        .where(and(eq(campaigns.workspaceId, ws), eq(campaigns.id, campaignId)));
      campaign = c ?? null;
    }
    return { workspace: w ? { name: w.name } : null, campaign };
  }

  private async skip(ws: WorkspaceId, base: Omit<SendLog, 'status'>, reason: string): Promise<SendOutcome> {
    await this.sends.record(ws, { ...base, status: 'skipped', skipReason: reason });
    if (base.leadId) {
      await this.leads.addActivity(ws, base.leadId, 'email_skipped', {
        reason,
        kind: base.kind,
        sequence_id: base.sequenceId ?? null,
        step: base.stepIndex ?? null,
      });
    }
    return { status: 'skipped', reason };
  }

  private async deliver(
    ws: WorkspaceId,
    base: Omit<SendLog, 'status'>,
    lead: LeadRecord,
    build: () => ReturnType<typeof marketingMail>,
  ): Promise<SendOutcome> {
    try {
      const { ran, result } = await this.effects.once(
        'email.send',
        `${ws}:${base.idempotencyKey}`,
        async () => {
          const sent = await this.transport.send(build(), { leadId: lead.id, sendId: base.idempotencyKey.replace(/:/g, '-') });
          return { message_id: sent.messageId };
        },
        { leaseMs: SEND_LEASE_MS },
      );
      await this.sends.record(ws, { ...base, status: 'sent', messageId: result.message_id });
      if (ran) {
        await this.leads.addActivity(ws, lead.id, 'emailed', {
          kind: base.kind,
          template_id: base.templateId ?? null,
          sequence_id: base.sequenceId ?? null,
          step: base.stepIndex ?? null,
          message_id: result.message_id,
        });
      }
      return { status: 'sent', messageId: result.message_id, repeated: !ran };
    } catch (err) {
      if (!(err instanceof MailSendError)) throw err;
      if (err.bounced) {
        await this.sends.record(ws, { ...base, status: 'bounced', error: err.message.slice(0, 500) });
        await this.leads.unsubscribe(ws, lead.id, 'bounced');
        this.log.warn({ lead_id: lead.id, code: err.responseCode }, 'email bounced; lead suppressed');
        return { status: 'bounced', error: err.message };
      }
      await this.sends.record(ws, { ...base, status: 'failed', error: err.message.slice(0, 500) });
      // A permanent refusal will not change on retry; a temporary one retries with the job's backoff.
      if (err.permanent) throw new UnrecoverableError(err.message);
      throw err;
    }
  }

  /** Removes stored copies of the lead's mail (embedded mode .eml files) after an erase. */
  eraseLeadMail(leadId: string): Promise<number> {
    return this.transport.eraseLead(leadId);
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
