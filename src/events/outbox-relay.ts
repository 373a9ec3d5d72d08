import type { JobsOptions } from 'bullmq';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/database';
import type { JobEnvelope } from '../jobs/job-definition';
import { notificationBridgeFor } from '../jobs/pg-notification-bridge';
import type { QueueBackend } from '../jobs/queue-backend';
import { EVENTS_QUEUE } from './event-jobs';

/** The channel the `events` insert trigger notifies (migrations 0004 and 0009). */
export const OUTBOX_CHANNEL = 'switchboard_outbox';
/** After the outbox ran dry, one more look this soon, for events committed meanwhile. */
const TAIL_CHECK_MS = 50;

export interface OutboxRelayOptions {
  batchSize: number;
  pollIntervalMs: number;
  /** How long a claimed batch is reserved for this relay before another may take it. */
  claimTtlMs: number;
  /** Options of the published event jobs (attempts, backoff, retention). */
  jobOptions: JobsOptions;
  onPublished?: (count: number) => void;
}

interface EventRow {
  id: string;
  workspace_id: string;
  type: string;
  payload: unknown;
  request_id: string | null;
  occurred_at: Date;
}

/*
 * Relay queries. They run across workspaces by design (the relay is infrastructure, not a
 * tenant's request), so they live here rather than in a workspace-scoped repository.
 * Claiming is one statement (no transaction is held while publishing: on PGlite an open
 * transaction would block the queue's own queries on the same session).
 */
const CLAIM_SQL = `
  update events set claimed_until = now() + $2 * interval '1 millisecond'
   where id in (
     select id from events
      where published_at is null and (claimed_until is null or claimed_until < now())
      order by id
      limit $1
      for update skip locked)
  returning id, workspace_id, type, payload, request_id, occurred_at`;
const MARK_PUBLISHED_SQL = `update events set published_at = now(), claimed_until = null where id = any($1::uuid[])`;
const RELEASE_SQL = `update events set claimed_until = null where id = any($1::uuid[]) and published_at is null`;

/**
 * The outbox relay (worker role): publishes committed, unpublished events to the `events`
 * queue with `jobId = event id`, then marks them published. A crash between publishing and
 * marking re-publishes the same ids, which the queue ignores while the job exists, so no event
 * is lost and none runs twice from the relay. Wakes on LISTEN/NOTIFY (sent at commit by the insert
 * trigger when the outbox was empty), keeps claiming while there is work, polls as a fallback, and
 * backs off while the queue is unreachable — events simply wait in Postgres until it returns.
 */
export class OutboxRelay {
  private running = false;
  private loopDone?: Promise<void>;
  private listener?: pg.Client;
  private wakePending = false;
  private wake?: () => void;
  private interrupt?: () => void;
  private failures = 0;
  private idleCycles = 0;
  private lastWarn = 0;

  constructor(
    private readonly database: Database,
    private readonly backend: QueueBackend,
    private readonly log: Logger,
    private readonly opts: OutboxRelayOptions,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listen().catch((err: Error) => this.warn(err, 'outbox relay could not LISTEN; polling only'));
    this.loopDone = this.loop();
  }

  /** Stops after the batch in flight (if any) is published and marked. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.interrupt?.();
    await this.loopDone;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Publishes one batch; returns how many events it published. */
  async publishOnce(): Promise<number> {
    const { rows } = await this.database.pool.query<EventRow>(CLAIM_SQL, [this.opts.batchSize, this.opts.claimTtlMs]);
    if (rows.length === 0) return 0;
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const ids = rows.map((r) => r.id);
    try {
      await this.backend.ready();
      await this.backend.queue(EVENTS_QUEUE).addBulk(
        rows.map((r) => ({
          name: r.type,
          data: {
            workspace_id: r.workspace_id,
            request_id: r.request_id,
            payload: r.payload,
            occurred_at: new Date(r.occurred_at).toISOString(),
          } satisfies JobEnvelope,
          opts: { ...this.opts.jobOptions, jobId: r.id },
        })),
      );
    } catch (err) {
      // Hand the batch back at once (best effort; the lease expires anyway).
      await this.database.pool.query(RELEASE_SQL, [ids]).catch(() => undefined);
      throw err;
    }
    await this.database.pool.query(MARK_PUBLISHED_SQL, [ids]);
    this.opts.onPublished?.(rows.length);
    return rows.length;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let published = 0;
      try {
        published = await this.publishOnce();
        if (this.failures > 0) this.log.info({ after_failures: this.failures }, 'outbox relay publishing again');
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.warn(err as Error, 'outbox relay could not publish; events wait in Postgres');
        // Exponential backoff with full jitter, capped at 30 s; NOTIFYs do not cut it short.
        await this.sleep(Math.random() * Math.min(30_000, 200 * 2 ** Math.min(this.failures, 10)), false);
        continue;
      }
      // Keep going while there is work. The insert trigger only NOTIFYs when the outbox was empty
      // (see migration 0009), so after the last productive batch look once more shortly after
      // (a transaction may have been committing meanwhile), then rest until NOTIFY or the poll.
      if (published > 0) {
        this.idleCycles = 0;
        continue;
      }
      this.idleCycles++;
      await this.sleep(
        this.idleCycles === 1 ? Math.min(TAIL_CHECK_MS, this.opts.pollIntervalMs) : this.opts.pollIntervalMs,
        true,
      );
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (wakeable && this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        this.wake = this.interrupt = undefined;
        resolve();
      };
      this.interrupt = done;
      this.wake = wakeable ? done : undefined;
    });
  }

  /** A NOTIFY arrived: run now if idle, else right after the current batch. */
  private notify(): void {
    if (this.wake) this.wake();
    else this.wakePending = true;
  }

  /** A dedicated connection LISTENs; it is re-opened (with backoff) when it drops. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ ...this.database.connection, keepAlive: true });
    client.on('notification', (msg) => {
      if (msg.channel === OUTBOX_CHANNEL) this.notify();
    });
    client.on('error', (err) => this.warn(err, 'outbox relay LISTEN connection lost'));
    client.on('end', () => {
      if (this.listener !== client || !this.running) return;
      this.listener = undefined;
      setTimeout(() => {
        if (this.running) this.listen().catch((err: Error) => this.warn(err, 'outbox relay could not LISTEN; polling only'));
      }, 1000).unref();
    });
    await client.connect();
    notificationBridgeFor(this.database)?.add(client);
    await client.query(`listen ${OUTBOX_CHANNEL}`);
    this.listener = client;
    if (!this.running) await client.end();
  }

  private warn(err: Error, msg: string): void {
    if (Date.now() - this.lastWarn < 10_000) return;
    this.lastWarn = Date.now();
    this.log.warn({ err: { message: err.message } }, msg);
  }
}
