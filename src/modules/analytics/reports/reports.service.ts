import { Inject, Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { AuthContext, WorkspaceId } from '../../../auth/auth-context';
import { DomainError, notFound } from '../../../common/errors/domain-error';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import { JobsService } from '../../../jobs/jobs.service';
import { ROOT_LOGGER } from '../../../observability/root-logger';
import { analyticsReportJob } from '../analytics.job-types';
import { resolveDateRange, type ReportRequest, type ReportResult, type ReportView } from '../analytics.schemas';
import { DashboardService } from '../dashboard/dashboard.service';
import type { MetricName } from '../dashboard/kpis';
import { daysInclusive } from '../dates';
import { ReportsRepository, type ReportRow } from './reports.repository';

/** The normalised request a stored report keeps (dates resolved when it was asked for). */
interface StoredRequest {
  campaign_id: string | null;
  campaign: string | null;
  provider: NonNullable<ReportRequest['provider']> | null;
  from: string;
  to: string;
  metrics: MetricName[];
}

export type ReportAnswer = { kind: 'inline'; result: ReportResult } | { kind: 'queued'; report: ReportView };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * `POST /analytics/report`: a range up to ANALYTICS_REPORT_INLINE_MAX_DAYS is computed and
 * answered at once; a longer one is stored as `pending`, built by a job into JSON and CSV, and
 * fetched with `GET /analytics/reports/:id[/download]`.
 */
@Injectable()
export class ReportsService {
  private readonly log: Logger;

  constructor(
    private readonly repo: ReportsRepository,
    private readonly dashboard: DashboardService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'analytics-reports' });
  }

  async request(auth: AuthContext, body: ReportRequest): Promise<ReportAnswer> {
    const range = resolveDateRange(body.date_range);
    if (!range) throw new DomainError('validation_failed', 'Invalid date_range', [{ path: 'date_range', message: 'Invalid' }]);
    const stored: StoredRequest = {
      campaign_id: body.campaign_id ?? null,
      campaign: body.campaign ?? null,
      provider: body.provider ?? null,
      ...range,
      metrics: body.metrics,
    };
    if (daysInclusive(range.from, range.to) <= this.config.ANALYTICS_REPORT_INLINE_MAX_DAYS)
      return { kind: 'inline', result: await this.build(auth.workspaceId, stored) };
    // Fail fast on an unknown campaign instead of queueing a job that can only fail.
    if (stored.campaign_id)
      await this.dashboard.summary(auth.workspaceId, { from: range.to, to: range.to, campaign_id: stored.campaign_id });
    const row = await this.repo.insert(auth.workspaceId, {
      id: uuidv7(),
      request: stored,
      requestedByUserId: auth.userId,
      requestedByApiKeyId: auth.apiKeyId,
    });
    try {
      await this.jobs.enqueue(
        analyticsReportJob,
        { report_id: row.id },
        { workspaceId: auth.workspaceId, jobId: `analytics-report-${row.id}` },
      );
    } catch (err) {
      await this.repo.delete(auth.workspaceId, row.id);
      this.log.error({ err: { message: (err as Error).message } }, 'enqueueing an analytics report failed');
      throw new DomainError('service_unavailable', 'The job queue is unavailable; retry shortly', undefined, {
        'retry-after': '5',
      });
    }
    return { kind: 'queued', report: this.view(row) };
  }

  view(row: ReportRow): ReportView {
    const req = row.request as StoredRequest;
    const base = `/api/v1/analytics/reports/${row.id}/download`;
    return {
      id: row.id,
      status: row.status,
      request: {
        campaign_id: req.campaign_id,
        campaign: req.campaign,
        provider: req.provider,
        from: req.from,
        to: req.to,
        metrics: req.metrics,
      },
      row_count: row.rowCount,
      error: row.error,
      created_at: row.createdAt.toISOString(),
      started_at: iso(row.startedAt),
      completed_at: iso(row.completedAt),
      downloads: row.status === 'succeeded' ? { csv: `${base}?format=csv`, json: `${base}?format=json` } : null,
    };
  }

  async get(ws: WorkspaceId, id: string): Promise<ReportView> {
    const row = await this.repo.get(ws, id);
    if (!row) throw notFound('Report');
    return this.view(row);
  }

  async download(
    ws: WorkspaceId,
    id: string,
    format: 'csv' | 'json',
  ): Promise<{ contentType: string; filename: string; body: string }> {
    const row = await this.repo.get(ws, id);
    if (!row) throw notFound('Report');
    if (row.status !== 'succeeded')
      throw new DomainError('conflict', `The report is ${row.status}; download it once it has succeeded`);
    return format === 'csv'
      ? { contentType: 'text/csv; charset=utf-8', filename: `report-${id}.csv`, body: row.resultCsv ?? '' }
      : { contentType: 'application/json; charset=utf-8', filename: `report-${id}.json`, body: JSON.stringify(row.resultJson) };
  }

  /** The job: builds the report and stores both formats. Throws (to retry) until the last attempt fails it. */
  async process(ws: WorkspaceId, id: string, lastAttempt: boolean): Promise<{ rows: number } | null> {
    const row = await this.repo.markRunning(ws, id);
    if (!row) return null; // deleted with its workspace
    try {
      const result = await this.build(ws, row.request as StoredRequest);
      await this.repo.complete(ws, id, { json: result, csv: toCsv(result), rowCount: result.rows.length });
      return { rows: result.rows.length };
    } catch (err) {
      const message =
        err instanceof DomainError ? err.message : 'internal error while building the report (details in the server log)';
      if (!(err instanceof DomainError)) this.log.error({ err, report_id: id }, 'building an analytics report failed');
      if (err instanceof DomainError || lastAttempt) {
        await this.repo.fail(ws, id, message);
        return null;
      }
      throw err;
    }
  }

  private async build(ws: WorkspaceId, req: StoredRequest): Promise<ReportResult> {
    const table = await this.dashboard.dailyTable(
      ws,
      {
        from: req.from,
        to: req.to,
        provider: req.provider ?? undefined,
        campaign_id: req.campaign_id ?? undefined,
        campaign: req.campaign ?? undefined,
      },
      req.metrics,
    );
    return {
      from: req.from,
      to: req.to,
      campaign_id: req.campaign_id,
      campaign: req.campaign,
      provider: req.provider,
      metrics: req.metrics,
      currency: table.currency,
      currency_conversion: table.currency_conversion,
      totals: table.totals,
      rows: table.rows,
      notes: table.notes,
    };
  }
}

/**
 * CSV of a report: `date` and one column per metric, one row per day, then a `total` row.
 * csv-stringify's `escape_formulas` prefixes text cells a spreadsheet would run as a formula.
 */
export function toCsv(result: ReportResult): string {
  const columns = ['date', ...Object.keys(result.totals)];
  const body = result.rows.map((r) => columns.map((c) => r[c] ?? ''));
  const total = columns.map((c) => (c === 'date' ? 'total' : (result.totals[c] ?? '')));
  return stringify([columns, ...body, total], { escape_formulas: true });
}
