import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import type { AnalyticsProvider, SyncTrigger } from '../../../db/schema/analytics';
import type { ConnectionRow, ConnectionsRepository } from '../connections/connections.repository';
import type { CredentialsVault } from '../connections/credentials-vault';
import { addDays, maxDate, minDate, todayUtc } from '../dates';
import { DecimalParseError } from '../money';
import type { Credentials, PageResult, ProviderClient } from '../providers/provider-client';
import { ProviderAuthError, ProviderError, QuotaStop } from '../providers/provider-errors';
import { sleep as realSleep, withRetries, type RequestStats, type RetryPolicy } from '../providers/provider-http';
import type { ProviderRegistry } from '../providers/provider-registry';
import type { AdMetricsRepository } from './ad-metrics.repository';
import { planRun, type CheckpointState, type Segment } from './sync-plan';
import { checkpointState, type SyncRepository } from './sync.repository';

export interface SyncSettings {
  lookbackDays: Record<AnalyticsProvider, number>;
  initialDays: number;
  retry: RetryPolicy;
  leaseMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type SyncOutcome =
  | { status: 'succeeded'; runId: string; rows: number }
  | { status: 'paused'; runId: string; resumeAt: Date; reason: string }
  | { status: 'failed'; runId: string; error: string }
  | { status: 'busy'; runId?: string }
  | { status: 'not_found' }
  | { status: 'disabled' };

export interface RunRequest {
  trigger: SyncTrigger;
  /** A run row created when the sync was requested (status `queued`). */
  runId?: string;
  /** Backfill range; absent = incremental (or resume). */
  range?: { from: string; to: string };
}

/** The lease was taken over by another worker (ours expired): stop writing at once. */
export class LeaseLostError extends Error {
  constructor() {
    super('the sync lease was lost to another worker; this run stopped without writing further');
    this.name = 'LeaseLostError';
  }
}

interface Position {
  segment: number;
  window: { from: string; to: string };
  cursor: string | null;
  syncToken: string;
}

/** State of one run: credentials, counters, learned metadata. */
class RunContext {
  readonly stats: RequestStats = { requests: 0 };
  committedRequests = 0;
  refreshedAfter401 = false;
  leaseLost = false;
  rows = 0;
  campaignNames = new Map<string, string>();
  constructor(
    readonly ws: WorkspaceId,
    public conn: ConnectionRow,
    readonly runId: string,
    readonly leaseId: string,
    readonly client: ProviderClient,
    public credentials: Credentials,
  ) {}
}

/**
 * The sync algorithm. A run takes the connection's lease, plans its ranges (what a stopped run
 * still owes first, then the backfill or the incremental range with the provider's lookback),
 * and walks them window by window, page by page. Each page is written in ONE transaction with
 * the checkpoint that says where to continue, so a crash, a quota stop or a failure never leaves
 * half a page and the next run resumes exactly there. When a window's last page is in, rows of
 * the window the provider no longer reports are deleted and the rollup is refreshed, in the same
 * transaction. Every run is recorded.
 */
export class SyncEngine {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionsRepository,
    private readonly runs: SyncRepository,
    private readonly metrics: AdMetricsRepository,
    private readonly providers: ProviderRegistry,
    private readonly vault: CredentialsVault,
    private readonly settings: SyncSettings,
    private readonly log: Logger,
  ) {
    this.now = settings.now ?? Date.now;
    this.sleep = settings.sleep ?? realSleep;
  }

  async run(ws: WorkspaceId, connectionId: string, req: RunRequest): Promise<SyncOutcome> {
    const conn = await this.connections.get(ws, connectionId);
    if (!conn) return { status: 'not_found' };
    if (!conn.enabled && req.trigger !== 'manual') {
      if (req.runId) await this.runs.finishRun(ws, req.runId, { status: 'skipped', error: 'the connection is disabled' });
      return { status: 'disabled' };
    }
    const leaseId = uuidv7();
    const leased = await this.connections.acquireLease(ws, connectionId, leaseId, this.settings.leaseMs);
    // The caller decides what a busy connection means (retry later, skip, nothing to do).
    if (!leased) return { status: 'busy', runId: req.runId };
    // We hold the lease, so a run still marked running belongs to a worker that died.
    await this.runs.failAbandonedRuns(ws, connectionId, req.runId ?? null);
    const runId =
      req.runId ??
      (
        await this.runs.createRun(ws, {
          connectionId,
          trigger: req.trigger,
          status: 'running',
          backfill: !!req.range,
          startedAt: new Date(this.now()),
        })
      ).id;
    const log = this.log.child({ connection_id: connectionId, provider: conn.provider, run_id: runId });
    const ctx = new RunContext(ws, leased, runId, leaseId, this.providers.get(conn.provider), { access_token: '' });
    const heartbeat = setInterval(
      () => {
        this.connections
          .renewLease(ws, connectionId, leaseId, this.settings.leaseMs)
          .then((ok) => {
            if (!ok) ctx.leaseLost = true;
          })
          .catch((err: Error) => log.warn({ err: { message: err.message } }, 'renewing the sync lease failed'));
      },
      Math.max(1000, Math.floor(this.settings.leaseMs / 3)),
    );
    heartbeat.unref();
    try {
      ctx.credentials = await this.openCredentials(ctx);
      const cp = await this.runs.getCheckpoint(ws, connectionId);
      const plan = planRun({
        today: todayUtc(this.now()),
        syncedThrough: conn.syncedThrough,
        lookbackDays: this.settings.lookbackDays[conn.provider],
        initialDays: this.settings.initialDays,
        requested: req.range,
        checkpoint: cp ? checkpointState(cp) : null,
      });
      const range = plan.length
        ? { from: plan.map((s) => s.resume?.windowFrom ?? s.from).reduce(minDate), to: plan.map((s) => s.to).reduce(maxDate) }
        : null;
      await this.runs.startRun(ws, runId, range);
      log.info({ range, segments: plan.length, resumed: !!cp }, 'analytics sync started');
      if (conn.provider === 'linkedin_ads')
        ctx.campaignNames = await this.metrics.knownCampaignNames(ws, { provider: conn.provider, accountId: conn.accountId });
      await this.walk(ctx, plan);
      await this.runs.finishRun(ws, runId, { status: 'succeeded', requests: ctx.stats.requests - ctx.committedRequests });
      await this.connections.recordOutcome(ws, connectionId, 'succeeded', null);
      log.info({ rows: ctx.rows, requests: ctx.stats.requests }, 'analytics sync succeeded');
      return { status: 'succeeded', runId, rows: ctx.rows };
    } catch (err) {
      const extra = ctx.stats.requests - ctx.committedRequests;
      if (err instanceof QuotaStop) {
        await this.runs.markCheckpointStopped(ws, connectionId, err.resumeAt, err.reason);
        await this.runs.finishRun(ws, runId, { status: 'paused', error: err.message, resumeAt: err.resumeAt, requests: extra });
        await this.connections.recordOutcome(ws, connectionId, 'paused', err.message);
        log.warn({ resume_at: err.resumeAt.toISOString(), reason: err.reason }, 'analytics sync paused by provider quota');
        return { status: 'paused', runId, resumeAt: err.resumeAt, reason: err.reason };
      }
      const message = describe(err);
      if (!(err instanceof ProviderError) && !(err instanceof LeaseLostError) && !(err instanceof DecimalParseError))
        log.error({ err }, 'analytics sync failed unexpectedly');
      else log.warn({ error: message }, 'analytics sync failed');
      await this.runs.finishRun(ws, runId, { status: 'failed', error: message, requests: extra });
      await this.connections.recordOutcome(ws, connectionId, 'failed', message);
      return { status: 'failed', runId, error: message };
    } finally {
      clearInterval(heartbeat);
      await this.connections.releaseLease(ws, connectionId, leaseId).catch(() => undefined);
    }
  }

  private async walk(ctx: RunContext, plan: Segment[]): Promise<void> {
    let pos = this.firstPosition(ctx, plan);
    while (pos) {
      if (ctx.leaseLost) throw new LeaseLostError();
      const page = await this.fetch(ctx, pos);
      const last = page.nextCursor === null;
      const next = last ? this.advance(ctx, plan, pos) : { ...pos, cursor: page.nextCursor };
      await this.commit(ctx, plan, pos, page, last, next);
      if (page.slowDownMs && next) {
        if (page.slowDownMs > this.settings.retry.maxMs)
          throw new QuotaStop(new Date(this.now() + page.slowDownMs), 'Meta business use case usage above the threshold');
        await this.sleep(page.slowDownMs);
      }
      pos = next;
    }
  }

  private firstPosition(ctx: RunContext, plan: Segment[]): Position | null {
    const first = plan[0];
    if (!first) return null;
    if (first.resume)
      return {
        segment: 0,
        window: { from: first.resume.windowFrom, to: first.resume.windowTo },
        cursor: first.resume.cursor,
        syncToken: first.resume.syncToken,
      };
    return this.segmentStart(ctx, plan, 0);
  }

  private segmentStart(ctx: RunContext, plan: Segment[], index: number): Position | null {
    const s = plan[index];
    if (!s) return null;
    return {
      segment: index,
      window: { from: s.from, to: minDate(addDays(s.from, ctx.client.windowDays - 1), s.to) },
      cursor: null,
      syncToken: uuidv7(),
    };
  }

  /** The position after a completed window: the next window of the segment, or the next segment. */
  private advance(ctx: RunContext, plan: Segment[], pos: Position): Position | null {
    const seg = plan[pos.segment];
    const from = addDays(pos.window.to, 1);
    if (from <= seg.to)
      return {
        segment: pos.segment,
        window: { from, to: minDate(addDays(from, ctx.client.windowDays - 1), seg.to) },
        cursor: null,
        syncToken: uuidv7(),
      };
    return this.segmentStart(ctx, plan, pos.segment + 1);
  }

  private checkpointOf(plan: Segment[], pos: Position): CheckpointState {
    const seg = plan[pos.segment];
    return {
      rangeFrom: seg.from,
      rangeTo: seg.to,
      windowFrom: pos.window.from,
      windowTo: pos.window.to,
      cursor: pos.cursor,
      syncToken: pos.syncToken,
      backfill: seg.backfill,
      pending: plan.slice(pos.segment + 1).map((s) => ({ from: s.from, to: s.to, backfill: s.backfill })),
    };
  }

  /** One page, its cleanup when it ends a window, the checkpoint and the run counters: one transaction. */
  private async commit(
    ctx: RunContext,
    plan: Segment[],
    pos: Position,
    page: PageResult,
    last: boolean,
    next: Position | null,
  ): Promise<void> {
    const scope = { provider: ctx.conn.provider, accountId: ctx.conn.accountId };
    const seg = plan[pos.segment];
    await this.db.transaction(async (tx) => {
      // Fencing: a worker whose lease expired (and was taken over) must not write.
      if (!(await this.connections.renewLease(ctx.ws, ctx.conn.id, ctx.leaseId, this.settings.leaseMs, tx))) {
        ctx.leaseLost = true;
        throw new LeaseLostError();
      }
      const upserted = await this.metrics.upsert(ctx.ws, scope, pos.syncToken, page.rows, tx);
      let deleted = 0;
      if (last) {
        deleted = await this.metrics.deleteStale(ctx.ws, scope, pos.window, pos.syncToken, tx);
        await this.metrics.refreshRollup(ctx.ws, scope, pos.window, tx);
      } else if (page.rows.length) {
        const dates = page.rows.map((r) => r.date);
        await this.metrics.refreshRollup(ctx.ws, scope, { from: dates.reduce(minDate), to: dates.reduce(maxDate) }, tx);
      }
      if (next) await this.runs.saveCheckpoint(ctx.ws, ctx.conn.id, ctx.runId, this.checkpointOf(plan, next), tx);
      else await this.runs.deleteCheckpoint(ctx.ws, ctx.conn.id, tx);
      const learned: { syncedThrough?: string; currency?: string; timeZone?: string } = {};
      if (last && !seg.backfill) learned.syncedThrough = minDate(pos.window.to, todayUtc(this.now()));
      if (page.currency && page.currency !== ctx.conn.currency) learned.currency = page.currency;
      if (page.timeZone && page.timeZone !== ctx.conn.timeZone) learned.timeZone = page.timeZone;
      await this.connections.recordProgress(ctx.ws, ctx.conn.id, learned, tx);
      const requests = ctx.stats.requests - ctx.committedRequests;
      await this.runs.addProgress(ctx.ws, ctx.runId, { rowsUpserted: upserted, rowsDeleted: deleted, pages: 1, requests }, tx);
      ctx.committedRequests += requests;
      ctx.rows += upserted;
    });
    if (page.currency) ctx.conn = { ...ctx.conn, currency: page.currency };
    if (page.timeZone) ctx.conn = { ...ctx.conn, timeZone: page.timeZone };
  }

  /** Fetches one page with retries/backoff, refreshing the token ahead of expiry or once after a 401. */
  private async fetch(ctx: RunContext, pos: Position): Promise<PageResult> {
    await this.refreshIfExpiring(ctx);
    const call = () =>
      withRetries(
        () =>
          ctx.client.fetchPage({
            accountId: ctx.conn.accountId,
            accessToken: ctx.credentials.access_token,
            from: pos.window.from,
            to: pos.window.to,
            cursor: pos.cursor,
            currency: ctx.conn.currency,
            settings: (ctx.conn.settings ?? {}) as Record<string, unknown>,
            stats: ctx.stats,
            campaignNames: ctx.campaignNames,
          }),
        { ...this.settings.retry, sleep: this.sleep, now: this.now },
      );
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ProviderAuthError) || err.final || ctx.refreshedAfter401) throw err;
      ctx.refreshedAfter401 = true;
      await this.refresh(ctx);
      return call();
    }
  }

  private async refreshIfExpiring(ctx: RunContext): Promise<void> {
    const expiresAt = ctx.credentials.expires_at ? Date.parse(ctx.credentials.expires_at) : Number.NaN;
    if (Number.isNaN(expiresAt) || expiresAt - this.now() > ctx.client.refreshAheadMs) return;
    try {
      await this.refresh(ctx);
    } catch (err) {
      // Still valid for a moment: use it and let a 401 decide; already expired: nothing to try.
      if (!(err instanceof ProviderAuthError) || expiresAt <= this.now()) throw err;
    }
  }

  private async refresh(ctx: RunContext): Promise<void> {
    const fresh = await withRetries(() => ctx.client.refresh(ctx.credentials, ctx.stats), {
      ...this.settings.retry,
      sleep: this.sleep,
      now: this.now,
    });
    const sealed = this.vault.seal(ctx.conn.id, fresh);
    await this.connections.setCredentials(ctx.ws, ctx.conn.id, {
      ciphertext: sealed.ciphertext,
      keyId: sealed.keyId,
      tokenExpiresAt: fresh.expires_at ? new Date(fresh.expires_at) : null,
    });
    ctx.credentials = fresh;
    this.log.info({ connection_id: ctx.conn.id, provider: ctx.conn.provider }, 'provider access token refreshed');
  }

  /** Opens the sealed credentials, re-sealing them with the current key after a key rotation. */
  private async openCredentials(ctx: RunContext): Promise<Credentials> {
    const creds = this.vault.open(ctx.conn.id, ctx.conn.credentialsCiphertext);
    if (this.vault.needsRotation(ctx.conn.credentialsCiphertext)) {
      const sealed = this.vault.seal(ctx.conn.id, creds);
      await this.connections.setCredentials(ctx.ws, ctx.conn.id, {
        ciphertext: sealed.ciphertext,
        keyId: sealed.keyId,
        tokenExpiresAt: ctx.conn.tokenExpiresAt,
      });
    }
    return creds;
  }
}

/** The error text stored on a run: provider messages as they are (they never hold tokens). */
function describe(err: unknown): string {
  if (err instanceof ProviderError || err instanceof LeaseLostError) return err.message;
  if (err instanceof DecimalParseError) return `the provider sent a malformed number: ${err.message}`;
  return 'internal error while syncing (details are in the server log)';
}
