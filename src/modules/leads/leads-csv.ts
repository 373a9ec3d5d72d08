import { Readable } from 'node:stream';
// CSV: csv-parse (streaming parser) for imports, csv-stringify (with its `escape_formulas`) for exports.
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { z } from 'zod';
import { DomainError, type FieldError } from '../../common/errors/domain-error';
import { zodIssuesToFieldErrors } from '../../common/errors/problem';
import { CUSTOM_FIELD_KEY, UTM_KEYS } from './lead-normalization';
import { leadInputSchema, type LeadInput } from './leads.schemas';

export const MAX_IMPORT_ROWS = 100_000;
/** Largest single CSV record accepted (a row longer than this is a broken file, not a lead). */
export const MAX_CSV_RECORD_BYTES = 64 * 1024;

/** Lead fields a CSV column can map to; `custom.<key>` maps into custom fields, `ignore` drops it. */
export const CSV_LEAD_FIELDS = ['email', 'first_name', 'last_name', 'phone', 'company', 'source', 'tags', ...UTM_KEYS] as const;
export type CsvTarget = (typeof CSV_LEAD_FIELDS)[number] | `custom.${string}` | 'ignore';

export const columnMappingSchema = z
  .record(
    z.string().min(1).max(200),
    z.union([
      z.enum(CSV_LEAD_FIELDS),
      z.literal('ignore'),
      z.string().regex(/^custom\.[A-Za-z][A-Za-z0-9_]{0,63}$/, 'custom.<key>'),
    ]),
  )
  .refine((m) => Object.keys(m).length <= 200, 'At most 200 mapped columns');
export type ColumnMapping = Record<string, CsvTarget>;

/** Header spellings recognised without a mapping (compared after lower-casing, non-alphanumerics as `_`). */
const HEADER_ALIASES: Record<string, CsvTarget> = {
  email: 'email',
  e_mail: 'email',
  email_address: 'email',
  first_name: 'first_name',
  firstname: 'first_name',
  given_name: 'first_name',
  first: 'first_name',
  last_name: 'last_name',
  lastname: 'last_name',
  surname: 'last_name',
  family_name: 'last_name',
  last: 'last_name',
  phone: 'phone',
  phone_number: 'phone',
  mobile: 'phone',
  telephone: 'phone',
  company: 'company',
  company_name: 'company',
  organization: 'company',
  organisation: 'company',
  source: 'source',
  tags: 'tags',
  ...Object.fromEntries(UTM_KEYS.map((k) => [k, k])),
};

const headerKey = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

/** Resolves each column index to its target, from an explicit mapping or the recognised headers. */
export function resolveColumns(headers: string[], mapping?: ColumnMapping): CsvTarget[] {
  const trimmed = headers.map((h) => h.trim());
  let targets: CsvTarget[];
  if (mapping && Object.keys(mapping).length) {
    const missing = Object.keys(mapping).filter((h) => !trimmed.includes(h.trim()));
    if (missing.length) {
      throw new DomainError(
        'bad_request',
        `The mapping names columns that are not in the file: ${missing.join(', ')}`,
        missing.map((m) => ({ path: `mapping.${m}`, message: 'No such column in the CSV header' })),
      );
    }
    const byHeader = new Map(Object.entries(mapping).map(([h, t]) => [h.trim(), t]));
    targets = trimmed.map((h) => byHeader.get(h) ?? 'ignore');
  } else {
    targets = trimmed.map((h) => HEADER_ALIASES[headerKey(h)] ?? 'ignore');
  }
  const seen = new Set<string>();
  for (const t of targets) {
    if (t === 'ignore') continue;
    if (seen.has(t)) throw new DomainError('bad_request', `Two columns map to ${t}`);
    seen.add(t);
    if (t.startsWith('custom.') && !CUSTOM_FIELD_KEY.test(t.slice(7))) throw new DomainError('bad_request', `Bad target ${t}`);
  }
  if (!seen.has('email')) {
    throw new DomainError(
      'bad_request',
      'No column maps to email: name a header "email" or pass a mapping such as {"E-mail": "email"}',
    );
  }
  return targets;
}

export type CsvRow =
  { row: number; line: number; ok: true; lead: LeadInput } | { row: number; line: number; ok: false; errors: FieldError[] };

/** Builds the lead input of one record; blank cells are absent values. */
export function recordToInput(record: string[], targets: CsvTarget[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const custom: Record<string, string> = {};
  targets.forEach((target, i) => {
    const cell = record[i];
    if (target === 'ignore' || cell === undefined || cell.trim() === '') return;
    if (target.startsWith('custom.')) custom[target.slice(7)] = cell;
    else if (target === 'tags')
      input.tags = cell
        .split(/[,;]/)
        .map((t) => t.trim())
        .filter(Boolean);
    else input[target] = cell;
  });
  if (Object.keys(custom).length) input.custom_fields = custom;
  return input;
}

/**
 * Streams a CSV (first record = header) into validated lead inputs, one result per data row,
 * without ever holding the file in memory. Row numbers count data rows from 1; `line` is the
 * file's line. Throws DomainError for a file that cannot be read as CSV or has too many rows.
 */
export async function* parseLeadsCsv(
  input: Readable | string | Buffer,
  opts: { mapping?: ColumnMapping; maxRows?: number } = {},
): AsyncGenerator<CsvRow> {
  const maxRows = opts.maxRows ?? MAX_IMPORT_ROWS;
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    max_record_size: MAX_CSV_RECORD_BYTES,
    info: true,
  });
  const source = typeof input === 'string' || Buffer.isBuffer(input) ? Readable.from([input]) : input;
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  let targets: CsvTarget[] | undefined;
  let row = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!targets) {
        targets = resolveColumns(record, opts.mapping);
        continue;
      }
      row++;
      if (row > maxRows) {
        throw new DomainError('payload_too_large', `The file has more than ${maxRows} rows; split it into several imports`);
      }
      const parsed = leadInputSchema.safeParse(recordToInput(record, targets));
      if (parsed.success) yield { row, line: info.lines, ok: true, lead: parsed.data };
      else yield { row, line: info.lines, ok: false, errors: zodIssuesToFieldErrors(parsed.error.issues) };
    }
  } catch (err) {
    if (err instanceof DomainError) throw err;
    const e = err as { code?: string; message?: string; lines?: number };
    if (e.code?.startsWith('CSV_')) {
      throw new DomainError('bad_request', `The file is not valid CSV${e.lines ? ` (line ${e.lines})` : ''}: ${e.message}`);
    }
    throw err;
  } finally {
    source.unpipe(parser);
    if (!parser.destroyed) parser.destroy();
    if ('destroy' in source && !source.destroyed) source.destroy();
  }
  if (!targets) throw new DomainError('bad_request', 'The file is empty: a header row is required');
}

export const EXPORT_COLUMNS = [
  'id',
  'email',
  'first_name',
  'last_name',
  'phone',
  'company',
  'source',
  'status',
  'tags',
  'consent_status',
  'campaign_id',
  'first_utm_source',
  'first_utm_medium',
  'first_utm_campaign',
  'last_utm_source',
  'last_utm_medium',
  'last_utm_campaign',
  'custom_fields',
  'created_at',
  'updated_at',
] as const;
export type ExportRow = Partial<Record<(typeof EXPORT_COLUMNS)[number], string | number | null>>;

/**
 * Streams rows out as CSV. Cells that a spreadsheet would read as a formula (starting with
 * `= + - @ \t \r`, and their full-width forms) are prefixed with `'` by csv-stringify's
 * `escape_formulas` (OWASP "CSV injection"); so are E.164 phone numbers, which start with `+`.
 */
export function leadsCsvStream(rows: AsyncIterable<ExportRow>): Readable {
  const out = stringify({ header: true, columns: [...EXPORT_COLUMNS], escape_formulas: true, bom: false });
  const input = Readable.from(rows, { objectMode: true });
  input.on('error', (err) => out.destroy(err));
  return input.pipe(out);
}
