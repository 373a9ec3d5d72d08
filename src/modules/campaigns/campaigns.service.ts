import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { WorkspaceId } from '../../auth/auth-context';
import { DomainError, notFound } from '../../common/errors/domain-error';
import { decodeCursor, toPage } from '../../common/http/pagination';
import { CampaignsRepository, type CampaignRecord, type CampaignValues } from './campaigns.repository';
import type { CampaignView } from './campaigns.schemas';

type Body = {
  name?: string;
  channel?: CampaignRecord['channel'];
  status?: CampaignRecord['status'];
  budget?: { amount_minor: number; currency: string } | null;
  starts_on?: string | null;
  ends_on?: string | null;
  utm_campaign?: string | null;
};

export function toCampaignView(c: CampaignRecord): CampaignView {
  return {
    id: c.id,
    name: c.name,
    channel: c.channel,
    status: c.status,
    budget: c.budgetMinor !== null && c.currency ? { amount_minor: c.budgetMinor, currency: c.currency } : null,
    starts_on: c.startsOn,
    ends_on: c.endsOn,
    utm_campaign: c.utmCampaign,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

function values(b: Body): CampaignValues {
  const v: CampaignValues = {};
  if (b.name !== undefined) v.name = b.name;
  if (b.channel !== undefined) v.channel = b.channel;
  if (b.status !== undefined) v.status = b.status;
  if (b.budget !== undefined) {
    v.budgetMinor = b.budget?.amount_minor ?? null;
    v.currency = b.budget?.currency ?? null;
  }
  if (b.starts_on !== undefined) v.startsOn = b.starts_on;
  if (b.ends_on !== undefined) v.endsOn = b.ends_on;
  if (b.utm_campaign !== undefined) v.utmCampaign = b.utm_campaign;
  return v;
}

const UNIQUE_VIOLATION = '23505';
const CHECK_VIOLATION = '23514';

async function mapDbErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    if (code === UNIQUE_VIOLATION)
      throw new DomainError('conflict', 'Another campaign already uses this utm_campaign key', [
        { path: 'utm_campaign', message: 'Already used by another campaign' },
      ]);
    if (code === CHECK_VIOLATION) throw new DomainError('validation_failed', 'ends_on must not be before starts_on');
    throw err;
  }
}

const idCursor = z.object({ id: z.uuid() });

@Injectable()
export class CampaignsService {
  constructor(private readonly repo: CampaignsRepository) {}

  async create(ws: WorkspaceId, body: Body & { name: string; channel: CampaignRecord['channel'] }): Promise<CampaignView> {
    return toCampaignView(
      await mapDbErrors(() => this.repo.insert(ws, { ...values(body), name: body.name, channel: body.channel })),
    );
  }

  async list(ws: WorkspaceId, q: { limit: number; cursor?: string; status?: CampaignRecord['status'] }) {
    const cursor = decodeCursor(q.cursor, idCursor);
    return toPage(await this.repo.list(ws, q.limit, q.status, cursor?.id), q.limit, toCampaignView, (c) => ({ id: c.id }));
  }

  async get(ws: WorkspaceId, id: string): Promise<CampaignView> {
    const c = await this.repo.findById(ws, id);
    if (!c) throw notFound('Campaign');
    return toCampaignView(c);
  }

  async patch(ws: WorkspaceId, id: string, body: Body): Promise<CampaignView> {
    const current = await this.repo.findById(ws, id);
    if (!current) throw notFound('Campaign');
    const starts = body.starts_on !== undefined ? body.starts_on : current.startsOn;
    const ends = body.ends_on !== undefined ? body.ends_on : current.endsOn;
    if (starts && ends && ends < starts)
      throw new DomainError('validation_failed', 'ends_on must not be before starts_on', [
        { path: 'ends_on', message: 'Before starts_on' },
      ]);
    const row = await mapDbErrors(() => this.repo.update(ws, id, values(body)));
    if (!row) throw notFound('Campaign');
    return toCampaignView(row);
  }

  async remove(ws: WorkspaceId, id: string): Promise<void> {
    if (!(await this.repo.delete(ws, id))) throw notFound('Campaign');
  }

  async stats(ws: WorkspaceId, id: string) {
    if (!(await this.repo.findById(ws, id))) throw notFound('Campaign');
    return { campaign_id: id, ...(await this.repo.stats(ws, id)) };
  }
}
