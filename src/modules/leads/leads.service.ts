import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { WorkspaceId } from '../../auth/auth-context';
import { DomainError, notFound } from '../../common/errors/domain-error';
import { decodeCursor, toPage, type Page } from '../../common/http/pagination';
import { emit, emitMany, type DbExecutor, type PendingEvent } from '../../events/emit';
import { currentRequestId } from '../../jobs/job-context';
import { leadsCsvStream, type ExportRow } from './leads-csv';
import { recordFromRow, LeadsRepository, type LeadRecord, type LeadUpdate } from './leads.repository';
import type { LeadVia, UpsertOptions } from './lead-upsert.sql';
import type { LeadInput, LeadListQuery, LeadPatch, LeadStatus, LeadView } from './leads.schemas';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toLeadView(r: LeadRecord): LeadView {
  return {
    id: r.id,
    email: r.email,
    first_name: r.firstName,
    last_name: r.lastName,
    phone: r.phone,
    company: r.company,
    source: r.source,
    status: r.status,
    tags: r.tags,
    custom_fields: r.customFields as LeadView['custom_fields'],
    consent: { status: r.consentStatus, at: iso(r.consentAt), ip: r.consentIp, wording: r.consentWording },
    utm: {
      first_touch: r.firstTouch as LeadView['utm']['first_touch'],
      last_touch: r.lastTouch as LeadView['utm']['last_touch'],
    },
    campaign_id: r.campaignId,
    possible_duplicate_of: r.possibleDuplicateOf,
    confirmed_at: iso(r.confirmedAt),
    converted_at: iso(r.convertedAt),
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

export interface UpsertResult {
  result: 'created' | 'merged';
  changed_fields: string[];
  lead: LeadView;
}

const idCursor = z.object({ id: z.uuid() });
const EXPORT_BATCH = 1000;

/** Why a lead stopped receiving marketing email. */
export type UnsubscribeReason = 'unsubscribe_link' | 'one_click' | 'bounced' | 'complained' | 'admin';

/**
 * Lead rules: create-or-merge, edits with their timeline entries and events, deletion and GDPR
 * erasure, unsubscribe and confirmation. Every change and its outbox event commit together.
 */
@Injectable()
export class LeadsService {
  constructor(private readonly repo: LeadsRepository) {}

  /**
   * Creates the lead, or merges the input into the lead with the same normalised email
   * (never overwriting a value with an empty one). One statement; see lead-upsert.sql.ts.
   */
  async createOrMerge(
    ws: WorkspaceId,
    input: LeadInput,
    opts: { via: LeadVia; consentOverride?: UpsertOptions['consentOverride'] },
  ): Promise<UpsertResult & { record: LeadRecord }> {
    const row = await this.repo.upsert(ws, input, { ...opts, requestId: currentRequestId() });
    const record = recordFromRow(row);
    return {
      result: row.inserted ? 'created' : 'merged',
      changed_fields: row.changed_fields,
      lead: toLeadView(record),
      record,
    };
  }

  async list(ws: WorkspaceId, query: LeadListQuery): Promise<Page<LeadView>> {
    const cursor = decodeCursor(query.cursor, idCursor);
    const rows = await this.repo.list(ws, query, cursor?.id);
    return toPage(rows, query.limit, toLeadView, (r) => ({ id: r.id }));
  }

  async record(ws: WorkspaceId, id: string, tx?: DbExecutor): Promise<LeadRecord> {
    const lead = await this.repo.findById(ws, id, tx);
    if (!lead) throw notFound('Lead');
    return lead;
  }

  async get(ws: WorkspaceId, id: string): Promise<LeadView> {
    return toLeadView(await this.record(ws, id));
  }

  findByEmail(ws: WorkspaceId, email: string): Promise<LeadRecord | undefined> {
    return this.repo.findByEmail(ws, email);
  }

  async patch(ws: WorkspaceId, id: string, patch: LeadPatch): Promise<LeadView> {
    const updated = await this.repo.transaction(async (tx) => {
      const lead = await this.repo.lockById(ws, id, tx);
      if (!lead) throw notFound('Lead');
      const values: LeadUpdate = {};
      const changed: string[] = [];
      const set = <K extends keyof LeadUpdate>(key: K, field: string, value: LeadUpdate[K], current: unknown) => {
        if (JSON.stringify(value ?? null) === JSON.stringify(current ?? null)) return;
        values[key] = value;
        changed.push(field);
      };
      const blank = (v: string | null | undefined) => (v === undefined ? undefined : v === '' ? null : v);
      if (patch.first_name !== undefined) set('firstName', 'first_name', blank(patch.first_name), lead.firstName);
      if (patch.last_name !== undefined) set('lastName', 'last_name', blank(patch.last_name), lead.lastName);
      if (patch.phone !== undefined) set('phone', 'phone', blank(patch.phone), lead.phone);
      if (patch.company !== undefined) set('company', 'company', blank(patch.company), lead.company);
      if (patch.source !== undefined) set('source', 'source', blank(patch.source), lead.source);
      if (patch.tags !== undefined) set('tags', 'tags', patch.tags, lead.tags);
      if (patch.custom_fields !== undefined) set('customFields', 'custom_fields', patch.custom_fields, lead.customFields);
      if (patch.consent !== undefined) {
        const c = patch.consent;
        const before = [lead.consentStatus, lead.consentWording, lead.consentIp];
        if (JSON.stringify([c.status, c.wording ?? null, c.ip ?? null]) !== JSON.stringify(before)) {
          values.consentStatus = c.status;
          values.consentAt = c.status === 'none' ? null : c.at ? new Date(c.at) : new Date();
          values.consentIp = c.ip ?? null;
          values.consentWording = c.wording ?? null;
          changed.push('consent');
        }
      }
      const events: PendingEvent[] = [];
      if (patch.status !== undefined && patch.status !== lead.status) {
        values.status = patch.status;
        await this.repo.addActivity(ws, id, 'status_changed', { from: lead.status, to: patch.status, by: 'api' }, tx);
        events.push(...(await this.statusSideEffects(ws, lead, patch.status, tx)));
        if (patch.status === 'customer' && !lead.convertedAt) values.convertedAt = new Date();
      }
      if (!Object.keys(values).length) return lead;
      const row = await this.repo.update(ws, id, values, tx);
      if (changed.length) {
        await this.repo.addActivity(ws, id, 'updated', { changed_fields: changed, by: 'api' }, tx);
        events.push({ type: 'lead.updated', payload: { lead_id: id, changed_fields: changed } });
      }
      await emitMany(tx, ws, events);
      return row!;
    });
    return toLeadView(updated);
  }

  /** Suppression and events that a status change implies (inside the caller's transaction). */
  private async statusSideEffects(ws: WorkspaceId, lead: LeadRecord, to: LeadStatus, tx: DbExecutor): Promise<PendingEvent[]> {
    if (to === 'unsubscribed') {
      await this.repo.suppress(ws, lead.email, 'unsubscribed', tx);
      return [{ type: 'lead.unsubscribed', payload: { lead_id: lead.id, reason: 'admin' } }];
    }
    if (to === 'bounced') {
      await this.repo.suppress(ws, lead.email, 'bounced', tx);
      return [{ type: 'lead.unsubscribed', payload: { lead_id: lead.id, reason: 'bounced' } }];
    }
    if (to === 'customer') {
      return [{ type: 'lead.converted', payload: { lead_id: lead.id, campaign_id: lead.campaignId, value: null } }];
    }
    return [];
  }

  /**
   * Deletes a lead. With `erase`, a GDPR erasure: the address goes on the suppression list as a
   * hash, staged import rows and stored Idempotency-Key replays naming the person are removed,
   * the lead row goes (its timeline, enrolments and pending CRM sync cascade; sends and
   * conversions keep their rows without the person). Mail copies on disk are removed by the
   * email module on `lead.deleted` with `erased: true`.
   */
  async remove(ws: WorkspaceId, id: string, erase: boolean): Promise<void> {
    await this.repo.transaction(async (tx) => {
      const lead = await this.repo.lockById(ws, id, tx);
      if (!lead) throw notFound('Lead');
      if (erase) {
        await this.repo.suppress(ws, lead.email, 'erased', tx);
        await this.repo.erasePiiOutsideLead(ws, lead.id, lead.email, tx);
      }
      await this.repo.delete(ws, id, tx);
      await emit(tx, ws, 'lead.deleted', { lead_id: id, erased: erase });
    });
  }

  async activity(ws: WorkspaceId, id: string, query: { limit: number; cursor?: string }) {
    await this.record(ws, id);
    const cursor = decodeCursor(query.cursor, idCursor);
    const rows = await this.repo.activities(ws, id, query.limit, cursor?.id);
    return toPage(
      rows,
      query.limit,
      (a) => ({ id: a.id, type: a.type, data: a.data as Record<string, unknown>, created_at: a.createdAt.toISOString() }),
      (a) => ({ id: a.id }),
    );
  }

  /** GDPR access request: everything Switchboard holds about the person, as JSON. */
  async gdprExport(ws: WorkspaceId, id: string) {
    const lead = await this.record(ws, id);
    const all = await this.repo.everything(ws, id);
    const suppressed = await this.repo.suppression(ws, lead.email);
    return {
      exported_at: new Date().toISOString(),
      lead: toLeadView(lead),
      suppression: suppressed ? { reason: suppressed } : null,
      activity: all.activity.map((a) => ({ id: a.id, type: a.type, data: a.data, created_at: a.createdAt.toISOString() })),
      email_sends: all.sends.map((s) => ({
        id: s.id,
        kind: s.kind,
        template_id: s.templateId,
        sequence_id: s.sequenceId,
        step: s.stepIndex,
        status: s.status,
        skip_reason: s.skipReason,
        message_id: s.messageId,
        created_at: s.createdAt.toISOString(),
        sent_at: iso(s.sentAt),
      })),
      sequence_enrolments: all.enrolments.map((e) => ({
        id: e.id,
        sequence_id: e.sequenceId,
        status: e.status,
        exit_reason: e.exitReason,
        next_step: e.nextStep,
        created_at: e.createdAt.toISOString(),
      })),
      conversions: all.conversions.map((c) => ({
        id: c.id,
        campaign_id: c.campaignId,
        amount_minor: c.amountMinor,
        currency: c.currency,
        occurred_at: c.occurredAt.toISOString(),
        source: c.source,
        external_id: c.externalId,
      })),
    };
  }

  /** The leads matching the filters as a CSV stream (read in batches of 1,000, oldest first). */
  exportCsv(ws: WorkspaceId, filters: Omit<LeadListQuery, 'limit' | 'cursor'>): Readable {
    const repo = this.repo;
    async function* rows(): AsyncGenerator<ExportRow> {
      let after: string | undefined;
      for (;;) {
        const batch = await repo.exportBatch(ws, filters, after, EXPORT_BATCH);
        for (const l of batch) {
          const first = l.firstTouch as Record<string, string>;
          const last = l.lastTouch as Record<string, string>;
          yield {
            id: l.id,
            email: l.email,
            first_name: l.firstName,
            last_name: l.lastName,
            phone: l.phone,
            company: l.company,
            source: l.source,
            status: l.status,
            tags: l.tags.join(', '),
            consent_status: l.consentStatus,
            campaign_id: l.campaignId,
            first_utm_source: first.utm_source ?? null,
            first_utm_medium: first.utm_medium ?? null,
            first_utm_campaign: first.utm_campaign ?? null,
            last_utm_source: last.utm_source ?? null,
            last_utm_medium: last.utm_medium ?? null,
            last_utm_campaign: last.utm_campaign ?? null,
            custom_fields: Object.keys(l.customFields as object).length ? JSON.stringify(l.customFields) : null,
            created_at: l.createdAt.toISOString(),
            updated_at: l.updatedAt.toISOString(),
          };
        }
        if (batch.length < EXPORT_BATCH) return;
        after = batch[batch.length - 1].id;
      }
    }
    return leadsCsvStream(rows());
  }

  /**
   * Stops marketing email to a lead at once: status `unsubscribed` (`bounced` for a bounce),
   * a suppression entry, a timeline entry and `lead.unsubscribed`. Idempotent: returns false
   * when the lead was already unsubscribed.
   */
  async unsubscribe(ws: WorkspaceId, leadId: string, reason: UnsubscribeReason): Promise<boolean> {
    return this.repo.transaction(async (tx) => {
      const lead = await this.repo.lockById(ws, leadId, tx);
      if (!lead) return false;
      // A customer stays a customer (the suppression entry is what stops the mail).
      const status: LeadStatus = lead.status === 'customer' ? 'customer' : reason === 'bounced' ? 'bounced' : 'unsubscribed';
      const suppressedAs = reason === 'bounced' ? 'bounced' : reason === 'complained' ? 'complained' : 'unsubscribed';
      const before = await this.repo.suppression(ws, lead.email, tx);
      await this.repo.suppress(ws, lead.email, suppressedAs, tx);
      if (before && lead.status === status) return false;
      if (lead.status !== status) await this.repo.update(ws, leadId, { status }, tx);
      await this.repo.addActivity(ws, leadId, reason === 'bounced' ? 'bounced' : 'unsubscribed', { reason }, tx);
      await emit(tx, ws, 'lead.unsubscribed', { lead_id: leadId, reason });
      return true;
    });
  }

  /**
   * Double opt-in confirmation: consent becomes `granted` (kept with the original wording and
   * IP), `confirmed_at` is set, and `lead.updated` (changed `consent`) lets waiting sequences
   * start. Idempotent.
   */
  async confirm(ws: WorkspaceId, leadId: string, ip: string | null): Promise<boolean> {
    return this.repo.transaction(async (tx) => {
      const lead = await this.repo.lockById(ws, leadId, tx);
      if (!lead) return false;
      if (lead.confirmedAt || lead.consentStatus === 'granted') return true;
      await this.repo.update(
        ws,
        leadId,
        { consentStatus: 'granted', consentAt: new Date(), consentIp: ip ?? lead.consentIp, confirmedAt: new Date() },
        tx,
      );
      await this.repo.addActivity(ws, leadId, 'confirmed', { via: 'double_opt_in' }, tx);
      await emit(tx, ws, 'lead.updated', { lead_id: leadId, changed_fields: ['consent'] });
      return true;
    });
  }

  addActivity(ws: WorkspaceId, leadId: string, type: string, data: Record<string, unknown>, tx?: DbExecutor): Promise<void> {
    return this.repo.addActivity(ws, leadId, type, data, tx);
  }

  suppression(ws: WorkspaceId, email: string) {
    return this.repo.suppression(ws, email);
  }

  byIds(ws: WorkspaceId, ids: string[]) {
    return this.repo.byIds(ws, ids);
  }

  async settings(ws: WorkspaceId) {
    const s = await this.repo.settings(ws);
    return { double_opt_in: s.doubleOptIn, confirmation_redirect_url: s.confirmationRedirectUrl };
  }

  async saveSettings(ws: WorkspaceId, body: { double_opt_in?: boolean; confirmation_redirect_url?: string | null }) {
    if (body.double_opt_in === undefined && body.confirmation_redirect_url === undefined)
      throw new DomainError('bad_request', 'Nothing to update');
    const s = await this.repo.saveSettings(ws, {
      doubleOptIn: body.double_opt_in,
      confirmationRedirectUrl: body.confirmation_redirect_url,
    });
    return { double_opt_in: s.doubleOptIn, confirmation_redirect_url: s.confirmationRedirectUrl };
  }
}
