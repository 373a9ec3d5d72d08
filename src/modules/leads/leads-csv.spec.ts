import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../common/errors/domain-error';
import { leadsCsvStream, parseLeadsCsv, type CsvRow, type ExportRow } from './leads-csv';

async function collect(input: string | Readable, opts?: Parameters<typeof parseLeadsCsv>[1]): Promise<CsvRow[]> {
  const out: CsvRow[] = [];
  for await (const r of parseLeadsCsv(input, opts)) out.push(r);
  return out;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}

describe('CSV import parsing', () => {
  it('recognises usual headers and validates each row, reporting per-row errors', async () => {
    const csv =
      '\uFEFFE-mail,First Name,Last Name,Phone,Tags,Ignored\r\n' +
      ' Ann@Example.COM ,Ann,Lee,+1 415 555 0123,"a, b;c",x\r\n' +
      'not-an-email,Bob,,,,\r\n' +
      'cat@example.com,Ca\u0000t,,12,,\r\n' +
      '\r\n' +
      'dan@example.com,"Dan ""The Man""",,,,\r\n';
    const rows = await collect(csv);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({
      row: 1,
      ok: true,
      lead: { email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee', phone: '+14155550123', tags: ['a', 'b', 'c'] },
    });
    expect(rows[1]).toMatchObject({ row: 2, ok: false });
    expect(rows[1].ok === false && rows[1].errors.map((e) => e.path)).toEqual(['email']);
    expect(rows[2].ok === false && rows[2].errors.map((e) => e.path).sort()).toEqual(['first_name', 'phone']);
    expect(rows[3]).toMatchObject({ row: 4, ok: true, lead: { first_name: 'Dan "The Man"' } });
  });

  it('uses an explicit mapping, including custom fields', async () => {
    const csv = 'Mail,Plan,Name\nann@example.com,pro,Ann\n';
    const rows = await collect(csv, { mapping: { Mail: 'email', Plan: 'custom.plan' } });
    expect(rows[0]).toMatchObject({ ok: true, lead: { email: 'ann@example.com', custom_fields: { plan: 'pro' } } });
    expect(rows[0].ok && rows[0].lead.first_name).toBeUndefined();
  });

  it('refuses a file without an email column, a mapping to missing columns, and broken CSV', async () => {
    await expect(collect('name\nAnn\n')).rejects.toThrow(/email/);
    await expect(collect('email\na@b.co\n', { mapping: { Mail: 'email' } })).rejects.toThrow(/not in the file/);
    await expect(collect('email,name\n"a@b.co,Ann\n')).rejects.toBeInstanceOf(DomainError);
    await expect(collect('')).rejects.toThrow(/empty/);
  });

  it('stops at the row limit', async () => {
    const csv = 'email\n' + Array.from({ length: 11 }, (_, i) => `u${i}@example.com`).join('\n');
    await expect(collect(csv, { maxRows: 10 })).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(await collect(csv, { maxRows: 11 })).toHaveLength(11);
  });

  it('streams 100,000 rows without buffering the file', async () => {
    const total = 100_000;
    let i = 0;
    const source = new Readable({
      read() {
        if (i === 0) this.push('email,first_name\n');
        const end = Math.min(i + 5000, total);
        let chunk = '';
        for (; i < end; i++) chunk += `user${i}@example.com,User ${i}\n`;
        this.push(chunk);
        if (i >= total) this.push(null);
      },
    });
    let ok = 0;
    for await (const r of parseLeadsCsv(source)) if (r.ok) ok++;
    expect(ok).toBe(total);
  });
});

describe('CSV export (reliability row 26)', () => {
  it("prefixes formula-looking cells with ' and round-trips everything else", async () => {
    async function* rows(): AsyncGenerator<ExportRow> {
      yield {
        id: '1',
        email: 'ann@example.com',
        first_name: '=HYPERLINK("http://evil","x")',
        last_name: '+1',
        company: '@SUM(A1)',
      };
      yield { id: '2', email: 'b@example.com', first_name: '-2+3', last_name: '\tTab', company: '\rCR', phone: '+14155550123' };
      yield { id: '3', email: 'c@example.com', first_name: 'Plain, "quoted"', tags: 'a, b' };
    }
    const csv = await text(leadsCsvStream(rows()));
    const parsed = parse<Record<string, string>>(csv, { columns: true });
    expect(parsed[0].first_name).toBe(`'=HYPERLINK("http://evil","x")`);
    expect(parsed[0].last_name).toBe(`'+1`);
    expect(parsed[0].company).toBe(`'@SUM(A1)`);
    expect(parsed[1].first_name).toBe(`'-2+3`);
    expect(parsed[1].last_name).toBe(`'\tTab`);
    expect(parsed[1].company).toBe(`'\rCR`);
    expect(parsed[1].phone).toBe(`'+14155550123`);
    expect(parsed[2].first_name).toBe('Plain, "quoted"');
    expect(parsed[2].tags).toBe('a, b');
    expect(Object.keys(parsed[0])[0]).toBe('id');
  });
});
