import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { WorkspaceId } from '../../auth/auth-context';
import { DomainError, notFound } from '../../common/errors/domain-error';
import { decodeCursor, toPage } from '../../common/http/pagination';
import { LeadsService } from '../leads/leads.service';
import { SequenceEngine } from './sequence-engine';
import { SequencesRepository, type EnrolmentRecord, type SequenceRecord, type StepRecord } from './sequences.repository';
import type { SequenceTrigger } from './sequences.schemas';

const idCursor = z.object({ id: z.uuid() });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toSequenceView(s: SequenceRecord, steps: StepRecord[]) {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    trigger: s.trigger as Record<string, unknown>,
    campaign_id: s.campaignId,
    steps: steps
      .filter((st) => st.sequenceId === s.id)
      .sort((a, b) => a.position - b.position)
      .map((st) => ({ position: st.position, delay_seconds: st.delaySeconds, template_id: st.templateId })),
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

export function toEnrolmentView(e: EnrolmentRecord) {
  return {
    id: e.id,
    sequence_id: e.sequenceId,
    lead_id: e.leadId,
    status: e.status,
    exit_reason: e.exitReason,
    next_step: e.nextStep,
    next_run_at: iso(e.nextRunAt),
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

interface SequenceBody {
  name?: string;
  status?: SequenceRecord['status'];
  trigger?: SequenceTrigger;
  campaign_id?: string | null;
  steps?: Array<{ delay_seconds: number; template_id: string }>;
}

const FK_VIOLATION = '23503';

@Injectable()
export class SequencesService {
  constructor(
    private readonly repo: SequencesRepository,
    private readonly engine: SequenceEngine,
    private readonly leads: LeadsService,
  ) {}

  private async checkTemplates(ws: WorkspaceId, steps: SequenceBody['steps']): Promise<void> {
    if (!steps) return;
    const ids = [...new Set(steps.map((s) => s.template_id))];
    const found = await this.repo.existingTemplates(ws, ids);
    const errors = steps
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => !found.has(s.template_id))
      .map(({ i }) => ({ path: `steps.${i}.template_id`, message: 'No such email template in this workspace' }));
    if (errors.length) throw new DomainError('validation_failed', 'Unknown email template in steps', errors);
  }

  private async withFkErrors<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const code =
        (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
      if (code === FK_VIOLATION)
        throw new DomainError('validation_failed', 'campaign_id or a template does not exist', [
          { path: 'campaign_id', message: 'Not found' },
        ]);
      throw err;
    }
  }

  async create(ws: WorkspaceId, body: Required<Pick<SequenceBody, 'name' | 'status' | 'trigger' | 'steps'>> & SequenceBody) {
    await this.checkTemplates(ws, body.steps);
    const seq = await this.withFkErrors(() =>
      this.repo.transaction(async (tx) => {
        const s = await this.repo.insert(
          ws,
          { name: body.name, status: body.status, trigger: body.trigger, campaignId: body.campaign_id ?? null },
          tx,
        );
        await this.repo.replaceSteps(ws, s.id, body.steps, tx);
        return s;
      }),
    );
    return toSequenceView(seq, await this.repo.steps(ws, [seq.id]));
  }

  async list(ws: WorkspaceId, q: { limit: number; cursor?: string }) {
    const cursor = decodeCursor(q.cursor, idCursor);
    const rows = await this.repo.list(ws, q.limit, cursor?.id);
    const steps = await this.repo.steps(
      ws,
      rows.map((r) => r.id),
    );
    return toPage(
      rows,
      q.limit,
      (s) => toSequenceView(s, steps),
      (s) => ({ id: s.id }),
    );
  }

  async record(ws: WorkspaceId, id: string): Promise<SequenceRecord> {
    const s = await this.repo.findById(ws, id);
    if (!s) throw notFound('Sequence');
    return s;
  }

  async get(ws: WorkspaceId, id: string) {
    return toSequenceView(await this.record(ws, id), await this.repo.steps(ws, [id]));
  }

  async patch(ws: WorkspaceId, id: string, body: SequenceBody) {
    await this.record(ws, id);
    await this.checkTemplates(ws, body.steps);
    const seq = await this.withFkErrors(() =>
      this.repo.transaction(async (tx) => {
        const s = await this.repo.update(
          ws,
          id,
          {
            ...(body.name !== undefined ? { name: body.name } : {}),
            ...(body.status !== undefined ? { status: body.status } : {}),
            ...(body.trigger !== undefined ? { trigger: body.trigger } : {}),
            ...(body.campaign_id !== undefined ? { campaignId: body.campaign_id } : {}),
          },
          tx,
        );
        if (!s) throw notFound('Sequence');
        if (body.steps) await this.repo.replaceSteps(ws, id, body.steps, tx);
        return s;
      }),
    );
    return toSequenceView(seq, await this.repo.steps(ws, [id]));
  }

  async remove(ws: WorkspaceId, id: string): Promise<void> {
    if (!(await this.repo.delete(ws, id))) throw notFound('Sequence');
  }

  /** Manual enrolment (any trigger type). Returns the enrolment and whether it is new. */
  async enrol(ws: WorkspaceId, sequenceId: string, leadId: string) {
    const seq = await this.record(ws, sequenceId);
    const lead = await this.leads.record(ws, leadId);
    const created = await this.engine.enrol(ws, seq, lead, 'manual');
    const enrolment = created ?? (await this.repo.enrolmentOf(ws, sequenceId, leadId));
    return { created: !!created, enrolment: toEnrolmentView(enrolment!) };
  }

  async enrolments(ws: WorkspaceId, sequenceId: string, q: { limit: number; cursor?: string }) {
    await this.record(ws, sequenceId);
    const cursor = decodeCursor(q.cursor, idCursor);
    return toPage(await this.repo.enrolments(ws, sequenceId, q.limit, cursor?.id), q.limit, toEnrolmentView, (e) => ({
      id: e.id,
    }));
  }

  /** Exit reason `removed`: the lead leaves the sequence; no further step is sent. */
  async removeLead(ws: WorkspaceId, sequenceId: string, leadId: string): Promise<void> {
    await this.record(ws, sequenceId);
    const enrolment = await this.repo.enrolmentOf(ws, sequenceId, leadId);
    if (!enrolment) throw notFound('Enrolment');
    await this.engine.exit(ws, leadId, 'removed', sequenceId);
  }
}
