import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import { loadConfig } from '../../src/config/config';
import { openDatabase, type Database } from '../../src/db/database';
import { runMigrations } from '../../src/db/migrate';
import { leads } from '../../src/db/schema';
import { tableReader } from '../../src/db/table-reader';
import { mergeLead, type StoredLeadProfile, type Utm } from '../../src/modules/leads/lead-normalization';
import { runUpsert, suppressionHash, type LeadRow } from '../../src/modules/leads/lead-upsert.sql';
import { leadInputSchema } from '../../src/modules/leads/leads.schemas';
import { createTestDatabase } from '../support/postgres';
import { dbTargets } from '../support/test-app';

/** A migrated database without the HTTP app: the statement is tested on its own. */
async function openMigrated(target: 'pglite' | 'postgres'): Promise<{ db: Database; close(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-leads-'));
  const pgdb = target === 'postgres' ? await createTestDatabase() : undefined;
  const config = loadConfig({ NODE_ENV: 'test', SWITCHBOARD_DATA_DIR: dataDir, ...(pgdb ? { DATABASE_URL: pgdb.url } : {}) });
  const db = await openDatabase(config, pino({ level: 'silent' }));
  await runMigrations(db.pool);
  return {
    db,
    async close() {
      await db.close();
      await pgdb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each(await dbTargets())('lead create-or-merge statement (%s)', (target) => {
  let h: Awaited<ReturnType<typeof openMigrated>>;
  let ws: WorkspaceId;
  const upsert = (raw: Record<string, unknown>, via: 'api' | 'capture' | 'import' = 'api') =>
    runUpsert(h.db, ws, leadInputSchema.parse(raw), { via, requestId: 'req-1' });
  const eventsOf = async (leadId: string) =>
    (await h.db.pool.query(`select type, payload, request_id from events where payload->>'lead_id' = $1 order by id`, [leadId]))
      .rows;

  beforeAll(async () => {
    h = await openMigrated(target);
    ws = uuidv7() as WorkspaceId;
    await h.db.pool.query(`insert into workspaces (id, name) values ($1, 'W')`, [ws]);
  });
  afterAll(() => h?.close());

  it('creates, then merges " Ann@Example.COM " into "ann@example.com" (reliability row 25)', async () => {
    const created = await upsert(
      { email: 'ann@example.com', first_name: 'Ann', utm_source: 'google', utm_campaign: 'spring' },
      'capture',
    );
    expect(created).toMatchObject({ inserted: true, email: 'ann@example.com', status: 'new', events: 1 });
    expect(created.first_touch).toEqual({ utm_source: 'google', utm_campaign: 'spring' });
    const merged = await upsert({ email: ' Ann@Example.COM ', last_name: 'Lee', first_name: '' });
    expect(merged).toMatchObject({ inserted: false, id: created.id, first_name: 'Ann', last_name: 'Lee' });
    expect(merged.changed_fields).toEqual(['last_name']);
    const events = await eventsOf(created.id);
    expect(events).toEqual([
      { type: 'lead.created', payload: { lead_id: created.id, source: 'capture', campaign_id: null }, request_id: 'req-1' },
      { type: 'lead.updated', payload: { lead_id: created.id, changed_fields: ['last_name'] }, request_id: 'req-1' },
    ]);
    const activity = await h.db.pool.query(`select type, data from lead_activities where lead_id = $1 order by id`, [created.id]);
    expect(activity.rows).toEqual([
      { type: 'created', data: { via: 'capture', changed_fields: [] } },
      { type: 'merged', data: { via: 'api', changed_fields: ['last_name'] } },
    ]);
  });

  it('records a no-op merge in the timeline without writing the lead or an event', async () => {
    const first = await upsert({ email: 'noop@example.com', first_name: 'N', tags: ['a'] });
    const again = await upsert({ email: 'noop@example.com', first_name: 'N', tags: ['a'] });
    expect(again).toMatchObject({ inserted: false, changed_fields: [], events: 0 });
    expect(again.updated_at).toEqual(first.updated_at);
    expect((await eventsOf(first.id)).map((e) => e.type)).toEqual(['lead.created']);
    const activity = await h.db.pool.query(`select type from lead_activities where lead_id = $1 order by id`, [first.id]);
    expect(activity.rows.map((r) => r.type)).toEqual(['created', 'merged']);
  });

  it('flags the Gmail variant as a possible duplicate instead of merging', async () => {
    const ann = await upsert({ email: 'ann@gmail.com' });
    const variant = await upsert({ email: 'a.nn+x@gmail.com' });
    expect(variant.inserted).toBe(true);
    expect(variant.id).not.toBe(ann.id);
    expect(variant.possible_duplicate_of).toBe(ann.id);
    expect(ann.possible_duplicate_of).toBeNull();
  });

  it('creates a suppressed address as unsubscribed (re-import after erase)', async () => {
    await h.db.pool.query(`insert into suppressions (workspace_id, email_hash, reason) values ($1, $2, 'erased')`, [
      ws,
      suppressionHash(ws, 'gone@example.com'),
    ]);
    expect((await upsert({ email: 'gone@example.com' })).status).toBe('unsubscribed');
  });

  it('attributes a lead to the campaign whose utm_campaign key matches, first touch wins', async () => {
    const campaign = uuidv7();
    await h.db.pool.query(
      `insert into campaigns (id, workspace_id, name, channel, utm_campaign) values ($1, $2, 'Spring', 'email', 'spring-26')`,
      [campaign, ws],
    );
    const lead = await upsert({ email: 'camp@example.com', utm_campaign: 'spring-26' });
    expect(lead.campaign_id).toBe(campaign);
    expect((await eventsOf(lead.id))[0].payload).toEqual({ lead_id: lead.id, source: 'api', campaign_id: campaign });
    const later = await upsert({ email: 'camp@example.com', utm_campaign: 'other' });
    expect(later.campaign_id).toBe(campaign);
    expect(later.last_touch).toEqual({ utm_campaign: 'other' });
    expect(later.first_touch).toEqual({ utm_campaign: 'spring-26' });
  });

  it('only raises consent (none < pending < granted)', async () => {
    const l = await upsert({ email: 'consent@example.com', consent: { status: 'pending', wording: 'Send me news' } });
    expect(l).toMatchObject({ consent_status: 'pending', consent_wording: 'Send me news' });
    expect(l.consent_at).toBeInstanceOf(Date);
    expect((await upsert({ email: 'consent@example.com', consent: { status: 'none' } })).consent_status).toBe('pending');
    const granted = await upsert({ email: 'consent@example.com', consent: { status: 'granted', ip: '203.0.113.7' } });
    expect(granted).toMatchObject({ consent_status: 'granted', consent_ip: '203.0.113.7', changed_fields: ['consent'] });
    expect((await upsert({ email: 'consent@example.com', consent: { status: 'pending' } })).consent_status).toBe('granted');
  });

  it('agrees with mergeLead() on generated inputs', async () => {
    const pick = <T>(xs: T[], i: number) => xs[i % xs.length];
    const names = ['', 'Ann', 'Bea', undefined];
    const tagsets = [[], ['a'], ['b', 'a'], ['c']];
    const customs = [{}, { plan: 'pro' }, { plan: '' }, { seats: 3, plan: 'team' }];
    const utms: Utm[] = [{}, { utm_source: 'g' }, { utm_source: 'n', utm_campaign: 'x' }];
    const toStored = (r: LeadRow): StoredLeadProfile => ({
      first_name: r.first_name,
      last_name: r.last_name,
      phone: r.phone,
      company: r.company,
      source: r.source,
      tags: r.tags,
      custom_fields: r.custom_fields,
      first_touch: r.first_touch,
      last_touch: r.last_touch,
    });
    for (let i = 0; i < 24; i++) {
      const email = `prop${i}@example.com`;
      const a = {
        first_name: pick(names, i),
        company: pick(names, i + 1),
        source: pick(['web', '', undefined], i),
        tags: pick(tagsets, i),
        custom_fields: pick(customs, i),
      };
      const b = {
        first_name: pick(names, i + 2),
        company: pick(names, i + 3),
        source: pick(['import', undefined], i),
        tags: pick(tagsets, i + 1),
        custom_fields: pick(customs, i + 1),
      };
      const ua = pick(utms, i);
      const ub = pick(utms, i + 1);
      const first = await upsert({ email, ...a, ...ua });
      const second = await upsert({ email, ...b, ...ub });
      const parsedB = leadInputSchema.parse({ email, ...b });
      const expected = mergeLead(toStored(first), parsedB, ub);
      const got = toStored(second);
      expect(got, `case ${i}`).toEqual(expected.merged);
      expect([...second.changed_fields].sort(), `case ${i}`).toEqual([...expected.changed].sort());
    }
  });

  it('creates exactly one lead and one lead.created event under concurrent captures of one new address', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => upsert({ email: 'race@example.com', first_name: `R${i % 3}` }, 'capture')),
    );
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    const events = await eventsOf([...ids][0]);
    expect(events.filter((e) => e.type === 'lead.created')).toHaveLength(1);
  });

  it('tableReader (the prepared hot-path selects) returns exactly the rows drizzle returns', async () => {
    const created = await upsert({
      email: 'reader@example.com',
      first_name: 'Rea',
      phone: '+14155550123',
      tags: ['a', 'b'],
      custom_fields: { plan: 'pro', seats: 3 },
      utm_source: 'google',
      utm_campaign: 'spring',
      consent: { status: 'granted', ip: '203.0.113.9', wording: 'Yes please' },
    });
    const reader = tableReader(leads);
    const raw = await h.db.pool.query(`select ${reader.columns} from ${reader.table} where id = $1`, [created.id]);
    const viaDrizzle = await h.db.db.select().from(leads).where(eq(leads.id, created.id));
    expect(raw.rows.map((r: Record<string, unknown>) => reader.row(r))).toEqual(viaDrizzle);
    expect(viaDrizzle[0]).toMatchObject({ consentIp: '203.0.113.9', tags: ['a', 'b'] });
    expect(viaDrizzle[0].createdAt).toBeInstanceOf(Date);
  });
});
