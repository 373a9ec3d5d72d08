import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { WorkspaceId } from '../../auth/auth-context';
import { DomainError, notFound } from '../../common/errors/domain-error';
import { decodeCursor, toPage } from '../../common/http/pagination';
import { LeadsService } from '../leads/leads.service';
import { renderTemplate } from './compose';
import { EmailLinkTokens } from './email-tokens';
import { EmailTemplatesRepository, type TemplateRecord } from './email-templates.repository';
import { templateProblems, templateVariables, type TemplateLead } from './template-engine';

const idCursor = z.object({ id: z.uuid() });
const FK_VIOLATION = '23503';

export function toTemplateView(t: TemplateRecord) {
  const vars = new Set([...templateVariables(t.subject), ...templateVariables(t.html), ...templateVariables(t.text)]);
  return {
    id: t.id,
    name: t.name,
    subject: t.subject,
    html: t.html,
    text: t.text,
    variables: [...vars].sort(),
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

const SAMPLE_LEAD: TemplateLead = {
  email: 'ann.example@example.com',
  first_name: 'Ann',
  last_name: 'Example',
  company: 'Example Inc.',
  phone: '+14155550123',
  source: 'website',
  custom_fields: {},
};

/** Templates: every part is checked on save (syntax, unknown variables, unescaped output). */
@Injectable()
export class EmailTemplatesService {
  constructor(
    private readonly repo: EmailTemplatesRepository,
    private readonly leads: LeadsService,
    private readonly tokens: EmailLinkTokens,
  ) {}

  private validate(parts: Partial<{ subject: string; html: string; text: string }>): void {
    const problems = Object.entries(parts)
      .filter(([, v]) => v !== undefined)
      .flatMap(([part, source]) => templateProblems(part, source));
    if (problems.length) {
      throw new DomainError(
        'validation_failed',
        `The template is invalid: ${problems.map((p) => p.message).join('; ')}`,
        problems.map((p) => ({ path: p.part, message: p.message, code: 'template' })),
      );
    }
  }

  async create(ws: WorkspaceId, body: { name: string; subject: string; html: string; text: string }) {
    this.validate(body);
    return toTemplateView(await this.repo.insert(ws, body));
  }

  async list(ws: WorkspaceId, q: { limit: number; cursor?: string }) {
    const cursor = decodeCursor(q.cursor, idCursor);
    return toPage(await this.repo.list(ws, q.limit, cursor?.id), q.limit, toTemplateView, (t) => ({ id: t.id }));
  }

  async record(ws: WorkspaceId, id: string): Promise<TemplateRecord> {
    const t = await this.repo.findById(ws, id);
    if (!t) throw notFound('Template');
    return t;
  }

  async get(ws: WorkspaceId, id: string) {
    return toTemplateView(await this.record(ws, id));
  }

  async patch(ws: WorkspaceId, id: string, body: Partial<{ name: string; subject: string; html: string; text: string }>) {
    this.validate(body);
    const row = await this.repo.update(ws, id, body);
    if (!row) throw notFound('Template');
    return toTemplateView(row);
  }

  async remove(ws: WorkspaceId, id: string): Promise<void> {
    try {
      if (!(await this.repo.delete(ws, id))) throw notFound('Template');
    } catch (err) {
      const code =
        (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
      if (code === FK_VIOLATION) throw new DomainError('conflict', 'A sequence step uses this template; change the step first');
      throw err;
    }
  }

  /** Renders the template for a lead of the workspace, a sample, or the built-in sample lead. */
  async preview(ws: WorkspaceId, id: string, body: { lead_id?: string; sample?: Partial<TemplateLead> }) {
    const t = await this.record(ws, id);
    let lead: TemplateLead = { ...SAMPLE_LEAD, ...(body.sample ?? {}) };
    let leadId = '00000000-0000-7000-8000-000000000000';
    if (body.lead_id) {
      const l = await this.leads.record(ws, body.lead_id);
      leadId = l.id;
      lead = {
        email: l.email,
        first_name: l.firstName,
        last_name: l.lastName,
        company: l.company,
        phone: l.phone,
        source: l.source,
        custom_fields: l.customFields as Record<string, unknown>,
      };
    }
    return renderTemplate(t, { lead, unsubscribe_url: this.tokens.unsubscribeUrl(ws, leadId) });
  }
}
