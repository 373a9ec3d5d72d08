import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import type { WorkspaceId } from '../../auth/auth-context';
import { DomainError, notFound, type FieldError } from '../../common/errors/domain-error';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { leadImportRows, leadImports } from '../../db/schema';
import { JobsService } from '../../jobs/jobs.service';
import { columnMappingSchema, parseLeadsCsv, type ColumnMapping } from './leads-csv';
import { leadImportJob } from './leads.job-types';
import { LeadsService } from './leads.service';
import { leadInputSchema } from './leads.schemas';

/** Per-row problems kept on the import (the first ones; counts cover every row). */
export const MAX_STORED_ROW_ERRORS = 1000;
const STAGE_BATCH = 1000;
const PROCESS_BATCH = 500;

export interface RowError {
  row: number;
  line: number;
  errors: FieldError[];
}

export const importViewSchema = z.object({
  id: z.uuid(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  filename: z.string().nullable(),
  total_rows: z.number().int(),
  valid_rows: z.number().int(),
  invalid_rows: z.number().int(),
  processed_rows: z.number().int(),
  created: z.number().int(),
  merged: z.number().int(),
  failed: z.number().int(),
  progress: z.number().describe('0..1 of the valid rows merged so far'),
  errors: z.array(
    z.object({ row: z.number(), line: z.number(), errors: z.array(z.object({ path: z.string(), message: z.string() })) }),
  ),
  error: z.string().nullable(),
  created_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  finished_at: z.iso.datetime().nullable(),
});
export type ImportView = z.infer<typeof importViewSchema>;
export class ImportDto extends createZodDto(importViewSchema) {}

export const importQuerySchema = z.strictObject({
  mapping: z
    .string()
    .max(20_000)
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'mapping must be JSON, e.g. {"E-mail":"email","Plan":"custom.plan"}' });
        return z.NEVER;
      }
    })
    .pipe(columnMappingSchema.optional())
    .describe('JSON object: CSV header → lead field (email, first_name, …, tags, utm_*, custom.<key>, ignore)'),
  filename: z.string().max(255).optional(),
});
export class ImportQueryDto extends createZodDto(importQuerySchema) {}

type ImportRow = typeof leadImports.$inferSelect;

function toView(r: ImportRow): ImportView {
  return {
    id: r.id,
    status: r.status,
    filename: r.filename,
    total_rows: r.totalRows,
    valid_rows: r.validRows,
    invalid_rows: r.invalidRows,
    processed_rows: r.processedRows,
    created: r.createdCount,
    merged: r.mergedCount,
    failed: r.failedCount,
    progress: r.validRows ? Math.min(1, r.processedRows / r.validRows) : r.status === 'completed' ? 1 : 0,
    errors: r.errors as RowError[],
    error: r.error,
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
  };
}

/**
 * CSV imports. The request streams the file through csv-parse, validates every row like
 * `POST /leads` and stages the valid ones (ids and fields in Postgres, never in the job); one job
 * then merges them in batches, with progress on the import and on the job. Per-row validation
 * errors are in the 202 answer and on the import.
 */
@Injectable()
export class LeadImportsService {
  constructor(
    @Inject(DRIZZLE) private readonly db: Db,
    private readonly jobs: JobsService,
    private readonly leads: LeadsService,
  ) {}

  async start(
    ws: WorkspaceId,
    body: unknown,
    opts: { mapping?: ColumnMapping; filename?: string; userId: string | null },
  ): Promise<ImportView> {
    if (!body || typeof (body as Readable).pipe !== 'function') {
      throw new DomainError('unsupported_media_type', 'Send the CSV file as the request body with Content-Type: text/csv');
    }
    const [imp] = await this.db
      .insert(leadImports)
      .values({ workspaceId: ws, status: 'queued', filename: opts.filename ?? null, createdBy: opts.userId })
      .returning();
    const errors: RowError[] = [];
    let total = 0;
    let valid = 0;
    let invalid = 0;
    let batch: Array<typeof leadImportRows.$inferInsert> = [];
    const flush = async () => {
      if (!batch.length) return;
      // A repeated address inside one file is merged in order by the job, like two posts.
      await this.db.insert(leadImportRows).values(batch);
      batch = [];
    };
    try {
      for await (const r of parseLeadsCsv(body as Readable, { mapping: opts.mapping })) {
        total++;
        if (r.ok) {
          valid++;
          batch.push({ importId: imp.id, row: r.row, workspaceId: ws, email: r.lead.email, data: r.lead });
          if (batch.length >= STAGE_BATCH) await flush();
        } else {
          invalid++;
          if (errors.length < MAX_STORED_ROW_ERRORS) errors.push({ row: r.row, line: r.line, errors: r.errors });
        }
      }
      await flush();
    } catch (err) {
      await this.db.delete(leadImports).where(eq(leadImports.id, imp.id));
      throw err;
    }
    const [saved] = await this.db
      .update(leadImports)
      .set({ totalRows: total, validRows: valid, invalidRows: invalid, errors, updatedAt: new Date() })
      .where(eq(leadImports.id, imp.id))
      .returning();
    if (valid === 0) {
      const [done] = await this.db
        .update(leadImports)
        .set({ status: 'completed', finishedAt: new Date() })
        .where(eq(leadImports.id, imp.id))
        .returning();
      return toView(done);
    }
    await this.jobs.enqueue(leadImportJob, { import_id: imp.id }, { workspaceId: ws, jobId: `import-${imp.id}` });
    return toView(saved);
  }

  async get(ws: WorkspaceId, id: string): Promise<ImportView> {
    const [row] = await this.db
      .select()
      .from(leadImports)
      .where(and(eq(leadImports.workspaceId, ws), eq(leadImports.id, id)));
    if (!row) throw notFound('Import');
    return toView(row);
  }

  /**
   * The job: merges staged rows in batches of 500, oldest row first, deleting each batch and
   * adding its counts in one transaction. A re-run (retry, worker killed) continues with the rows
   * left; a batch interrupted mid-way is merged again, which is a no-op merge for its rows.
   */
  async process(ws: WorkspaceId, importId: string, onProgress: (fraction: number) => Promise<void>): Promise<ImportView> {
    const [imp] = await this.db
      .update(leadImports)
      .set({ status: 'running', startedAt: sql`coalesce(${leadImports.startedAt}, now())`, updatedAt: new Date() })
      .where(and(eq(leadImports.workspaceId, ws), eq(leadImports.id, importId)))
      .returning();
    if (!imp) return Promise.reject(new DomainError('not_found', 'Import not found'));
    for (;;) {
      const rows = await this.db
        .select()
        .from(leadImportRows)
        .where(eq(leadImportRows.importId, importId))
        .orderBy(asc(leadImportRows.row))
        .limit(PROCESS_BATCH);
      if (!rows.length) break;
      let created = 0;
      let merged = 0;
      let failed = 0;
      for (const r of rows) {
        const parsed = leadInputSchema.safeParse(r.data);
        if (!parsed.success) {
          failed++;
          continue;
        }
        try {
          const res = await this.leads.createOrMerge(ws, parsed.data, { via: 'import' });
          if (res.result === 'created') created++;
          else merged++;
        } catch {
          failed++;
        }
      }
      const [updated] = await this.db.transaction(async (tx) => {
        await tx.delete(leadImportRows).where(
          and(
            eq(leadImportRows.importId, importId),
            inArray(
              leadImportRows.row,
              rows.map((r) => r.row),
            ),
          ),
        );
        return tx
          .update(leadImports)
          .set({
            processedRows: sql`${leadImports.processedRows} + ${rows.length}`,
            createdCount: sql`${leadImports.createdCount} + ${created}`,
            mergedCount: sql`${leadImports.mergedCount} + ${merged}`,
            failedCount: sql`${leadImports.failedCount} + ${failed}`,
            updatedAt: new Date(),
          })
          .where(eq(leadImports.id, importId))
          .returning();
      });
      await onProgress(updated.validRows ? Math.min(1, updated.processedRows / updated.validRows) : 1);
    }
    const [done] = await this.db
      .update(leadImports)
      .set({ status: 'completed', finishedAt: new Date(), updatedAt: new Date() })
      .where(eq(leadImports.id, importId))
      .returning();
    return toView(done);
  }

  async fail(ws: WorkspaceId, importId: string, message: string): Promise<void> {
    await this.db
      .update(leadImports)
      .set({ status: 'failed', error: message.slice(0, 500), finishedAt: new Date(), updatedAt: new Date() })
      .where(and(eq(leadImports.workspaceId, ws), eq(leadImports.id, importId)));
  }
}
