import { eq, inArray, isNull, sql } from 'drizzle-orm';
import pg from 'pg';
import pino from 'pino';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import { effects, events } from '../../src/db/schema/events';
import { EVENTS_QUEUE } from '../../src/events/event-jobs';
import { emit, emitMany } from '../../src/events/emit';
import { OUTBOX_CHANNEL, OutboxRelay } from '../../src/events/outbox-relay';
import { EffectInProgressError, EffectsService } from '../../src/jobs/effects';
import { runWithRequestId } from '../../src/jobs/job-context';
import type { JobContext } from '../../src/jobs/job-definition';
import { QUEUE_BACKEND } from '../../src/jobs/jobs.tokens';
import { notificationBridgeFor } from '../../src/jobs/pg-notification-bridge';
import type { QueueBackend } from '../../src/jobs/queue-backend';
import { SystemJobs } from '../../src/jobs/system.jobs';
import { dbTargets } from '../support/test-app';
import { startJobsTestApp, type JobsTestApp } from './jobs-fixtures/backends';
import { createWorkspace, sleep, waitFor } from './jobs-fixtures/test-jobs.module';

const silent = pino({ level: 'silent' });

/** The outbox, the relay and the effects table, with an `api` process (no relay of its own). */
describe.each(await dbTargets())('outbox and effects (%s)', (target) => {
  let t: JobsTestApp;
  let ws: WorkspaceId;
  const db = () => t.runtime.database.db;
  const unpublished = async (ids: string[]) =>
    (await db().select({ id: events.id, publishedAt: events.publishedAt }).from(events).where(inArray(events.id, ids))).filter(
      (r) => !r.publishedAt,
    ).length;

  function relay(backend: QueueBackend, opts: Partial<ConstructorParameters<typeof OutboxRelay>[3]> = {}): OutboxRelay {
    return new OutboxRelay(t.runtime.database, backend, silent, {
      batchSize: 50,
      pollIntervalMs: 200,
      claimTtlMs: 5000,
      jobOptions: { removeOnComplete: { count: 1000 } },
      ...opts,
    });
  }

  beforeAll(async () => {
    t = await startJobsTestApp({ name: target, target, redis: false }, { role: 'api' });
    ws = await createWorkspace(db());
  });
  afterAll(() => t?.close());

  describe('emit', () => {
    it('writes the event with its payload, workspace and request id', async () => {
      const lead = uuidv7();
      const id = await runWithRequestId('req-outbox-1', () =>
        db().transaction((tx) => emit(tx, ws, 'lead.updated', { lead_id: lead, changed_fields: ['name'] })),
      );
      const [row] = await db().select().from(events).where(eq(events.id, id));
      expect(row).toMatchObject({
        workspaceId: ws,
        type: 'lead.updated',
        payload: { lead_id: lead, changed_fields: ['name'] },
        requestId: 'req-outbox-1',
        publishedAt: null,
      });
    });

    it('refuses an unknown type or a payload that breaks the catalogue, rolling the transaction back', async () => {
      const lead = uuidv7();
      await expect(
        db().transaction(async (tx) => {
          await emit(tx, ws, 'lead.created', { lead_id: lead, source: 'api' });
          await emit(tx, ws, 'lead.created', { lead_id: 'not-a-uuid', source: 'api' });
        }),
      ).rejects.toThrow(/invalid payload for "lead.created"/);
      await expect(emit(db(), ws, 'lead.created', { lead_id: lead, source: 'api', email: 'a@b.c' } as never)).rejects.toThrow(
        /invalid payload/,
      );
      await expect(emit(db(), ws, 'lead.exploded' as never, {} as never)).rejects.toThrow(/unknown event type/);
      const rows = await db()
        .select()
        .from(events)
        .where(sql`${events.payload}->>'lead_id' = ${lead}`);
      expect(rows).toEqual([]);
    });

    it('writes several events in one statement, in id order', async () => {
      const ids = await emitMany(db(), ws, [
        { type: 'lead.created', payload: { lead_id: uuidv7(), source: 'import' } },
        { type: 'lead.converted', payload: { lead_id: uuidv7(), value: { amount_minor: 4900, currency: 'EUR' } } },
        { type: 'lead.deleted', payload: { lead_id: uuidv7(), erased: true } },
      ]);
      expect(ids).toHaveLength(3);
      expect([...ids].sort()).toEqual(ids);
    });

    it('notifies the relay channel at commit, and not for a rollback', async () => {
      const listener = new pg.Client(t.runtime.database.connection);
      await listener.connect();
      notificationBridgeFor(t.runtime.database)?.add(listener); // PGlite: one session, see the bridge
      const got: string[] = [];
      listener.on('notification', (n) => got.push(n.channel));
      await listener.query(`listen ${OUTBOX_CHANNEL}`);
      // The trigger notifies only when the outbox was empty (no relay runs in this api process).
      await db().update(events).set({ publishedAt: new Date() }).where(isNull(events.publishedAt));
      try {
        await db()
          .transaction(async (tx) => {
            await emit(tx, ws, 'lead.created', { lead_id: uuidv7(), source: 'api' });
            throw new Error('rollback');
          })
          .catch(() => undefined);
        await sleep(200);
        expect(got).toEqual([]);
        await db().transaction((tx) => emit(tx, ws, 'lead.created', { lead_id: uuidv7(), source: 'api' }));
        await waitFor(() => got.length > 0, 3000, 'notification');
        expect(got[0]).toBe(OUTBOX_CHANNEL);
        // With a backlog waiting, further commits do not notify (NOTIFY serialises commits).
        await emit(db(), ws, 'lead.created', { lead_id: uuidv7(), source: 'api' });
        await sleep(200);
        expect(got).toHaveLength(1);
      } finally {
        await listener.end();
      }
    });
  });

  describe('relay', () => {
    it('is not started by an api process: events wait in Postgres', async () => {
      expect(t.runtime.worker).toBeUndefined();
      const id = await emit(db(), ws, 'lead.created', { lead_id: uuidv7(), source: 'api' });
      await sleep(600);
      expect(await unpublished([id])).toBe(1);
    });

    it('two relays publish every event exactly once', async () => {
      const backend = t.app.get<QueueBackend>(QUEUE_BACKEND);
      const backlog = (await db().select({ id: events.id }).from(events).where(isNull(events.publishedAt))).length;
      const ids = await emitMany(
        db(),
        ws,
        Array.from({ length: 240 }, () => ({
          type: 'lead.created' as const,
          payload: { lead_id: uuidv7(), source: 'import' as const },
        })),
      );
      const published: number[] = [];
      const a = relay(backend, { batchSize: 20, onPublished: (n) => published.push(n) });
      const b = relay(backend, { batchSize: 20, onPublished: (n) => published.push(n) });
      await Promise.all([a.start(), b.start()]);
      try {
        await waitFor(async () => (await unpublished(ids)) === 0, 30_000, 'all published');
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
      // The two relays claimed disjoint batches: no event was published twice.
      expect(published.reduce((x, y) => x + y, 0)).toBe(backlog + 240);
      const queue = backend.queue(EVENTS_QUEUE);
      const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
      expect(jobs.every((j) => j && j.name === 'lead.created')).toBe(true);
    });

    it('falls back to polling when no NOTIFY comes', async () => {
      const backend = t.app.get<QueueBackend>(QUEUE_BACKEND);
      const r = relay(backend, { pollIntervalMs: 150 });
      await r.start();
      await db().execute(sql`alter table events disable trigger events_outbox_notify`);
      try {
        const id = await emit(db(), ws, 'lead.created', { lead_id: uuidv7(), source: 'api' });
        await waitFor(async () => (await unpublished([id])) === 0, 5000, 'published by polling');
      } finally {
        await db().execute(sql`alter table events enable trigger events_outbox_notify`);
        await r.stop();
      }
    });

    it('keeps events while the queue is unreachable and publishes them when it is back', async () => {
      const real = t.app.get<QueueBackend>(QUEUE_BACKEND);
      let down = true;
      const flaky: QueueBackend = {
        kind: real.kind,
        ready: () => (down ? Promise.reject(new Error('queue down')) : real.ready()),
        queue: (name) => real.queue(name),
        createWorker: () => {
          throw new Error('not used');
        },
        close: async () => undefined,
      };
      const r = relay(flaky, { pollIntervalMs: 100 });
      await r.start();
      try {
        const ids = await emitMany(db(), ws, [
          { type: 'lead.created', payload: { lead_id: uuidv7(), source: 'api' } },
          { type: 'lead.created', payload: { lead_id: uuidv7(), source: 'api' } },
        ]);
        await sleep(800);
        expect(await unpublished(ids)).toBe(2);
        // A failed batch is handed back at once, not left claimed.
        const rows = await db().select({ claimedUntil: events.claimedUntil }).from(events).where(inArray(events.id, ids));
        expect(rows.every((row) => row.claimedUntil === null || row.claimedUntil.getTime() > Date.now())).toBe(true);
        down = false;
        await waitFor(async () => (await unpublished(ids)) === 0, 20_000, 'published after recovery');
      } finally {
        await r.stop();
      }
    });
  });

  describe('metrics', () => {
    it('reports outbox lag and unpublished events, and queue depth', async () => {
      await db()
        .insert(events)
        .values({
          workspaceId: ws,
          type: 'lead.created',
          payload: { lead_id: uuidv7(), source: 'api' },
          occurredAt: new Date(Date.now() - 60_000),
        });
      const body = (await t.inject({ url: '/metrics' })).body;
      const lag = Number(/^outbox_lag_seconds (\S+)$/m.exec(body)?.[1]);
      expect(lag).toBeGreaterThanOrEqual(59);
      expect(Number(/^outbox_unpublished_events (\S+)$/m.exec(body)?.[1])).toBeGreaterThanOrEqual(1);
      expect(body).toMatch(/^jobs_queue_depth\{queue="events",state="waiting"\} \d+$/m);
      expect(body).toContain('# TYPE jobs_processed_total counter');
      expect(body).toContain('# TYPE job_duration_seconds histogram');
      // Leave no unpublished backlog for the next tests.
      await db().update(events).set({ publishedAt: new Date() });
    });
  });

  describe('effects', () => {
    it('runs an effect once and returns the stored result to later attempts', async () => {
      const fx = t.app.get(EffectsService);
      const subject = uuidv7();
      let runs = 0;
      const first = await fx.once('test.mail', subject, async (key) => {
        runs++;
        return { message_id: key };
      });
      const second = await fx.once('test.mail', subject, async () => {
        runs++;
        return { message_id: 'other' };
      });
      expect(first).toEqual({ ran: true, result: { message_id: `test.mail:${subject}` } });
      expect(second).toEqual({ ran: false, result: { message_id: `test.mail:${subject}` } });
      expect(runs).toBe(1);
      expect(await fx.has('test.mail', subject)).toBe(true);
    });

    it('lets one of two concurrent attempts run; the other is told to come back later', async () => {
      const fx = t.app.get(EffectsService);
      const subject = uuidv7();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow = fx.once('test.concurrent', subject, async () => {
        await gate;
        return 'done';
      });
      await sleep(100);
      const err = await fx.once('test.concurrent', subject, async () => 'twice').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EffectInProgressError);
      expect((err as EffectInProgressError).retryAt).toBeGreaterThan(Date.now());
      release();
      expect(await slow).toEqual({ ran: true, result: 'done' });
    });

    it('releases the effect when it fails, and lets a new attempt take over an expired lease', async () => {
      const fx = t.app.get(EffectsService);
      const subject = uuidv7();
      await expect(fx.once('test.fail', subject, () => Promise.reject(new Error('smtp down')))).rejects.toThrow('smtp down');
      expect((await fx.once('test.fail', subject, async () => 'ok')).ran).toBe(true);

      // An attempt that died mid-effect (row left running) blocks others until its lease ends.
      const stuck = uuidv7();
      await db()
        .insert(effects)
        .values({ kind: 'test.lease', subject: stuck, state: 'running', lockedUntil: new Date(Date.now() + 300) });
      await expect(fx.once('test.lease', stuck, async () => 'early')).rejects.toBeInstanceOf(EffectInProgressError);
      await sleep(400);
      expect(await fx.once('test.lease', stuck, async () => 'late')).toEqual({ ran: true, result: 'late' });
    });

    it('records an effect inside a transaction, exactly once', async () => {
      const fx = t.app.get(EffectsService);
      const subject = uuidv7();
      await db()
        .transaction(async (tx) => {
          expect(await fx.recordInTx(tx, 'test.tx', subject)).toBe(true);
          throw new Error('rollback');
        })
        .catch(() => undefined);
      expect(await fx.has('test.tx', subject)).toBe(false);
      expect(await db().transaction((tx) => fx.recordInTx(tx, 'test.tx', subject))).toBe(true);
      expect(await db().transaction((tx) => fx.recordInTx(tx, 'test.tx', subject))).toBe(false);
    });
  });

  describe('retention', () => {
    it('prunes old published events and expired effects, keeps the rest', async () => {
      const old = new Date(Date.now() - 40 * 86_400_000);
      const [oldEvent, recent, pending] = await emitMany(db(), ws, [
        { type: 'lead.created', payload: { lead_id: uuidv7(), source: 'api' } },
        { type: 'lead.created', payload: { lead_id: uuidv7(), source: 'api' } },
        { type: 'lead.created', payload: { lead_id: uuidv7(), source: 'api' } },
      ]);
      await db().update(events).set({ publishedAt: old }).where(eq(events.id, oldEvent));
      await db().update(events).set({ publishedAt: new Date() }).where(eq(events.id, recent));
      await db()
        .insert(effects)
        .values([
          { kind: 'test.prune', subject: 'expired', state: 'done', expiresAt: new Date(Date.now() - 1000) },
          { kind: 'test.prune', subject: 'kept', state: 'done' },
        ]);
      const ctx = { log: silent } as unknown as JobContext;
      const result = await t.app.get(SystemJobs).pruneOutbox({}, ctx);
      expect(result.events).toBeGreaterThanOrEqual(1);
      const left = (
        await db()
          .select({ id: events.id })
          .from(events)
          .where(inArray(events.id, [oldEvent, recent, pending]))
      ).map((r) => r.id);
      expect(left.sort()).toEqual([recent, pending].sort());
      const fx = (await db().select().from(effects).where(eq(effects.kind, 'test.prune'))).map((r) => r.subject);
      expect(fx).toEqual(['kept']);
    });
  });
});
