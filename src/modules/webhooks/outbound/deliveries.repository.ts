import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Database, Db } from '../../../db/database';
import { DATABASE, DRIZZLE } from '../../../db/database.module';
import { statement } from '../../../db/statement';
import { MESSAGE_STATUSES, webhookAttempts, webhookMessages } from '../../../db/schema/webhooks';
import type { EndpointRow } from './endpoints.repository';

/**
 * A UUIDv7 computed by the database (PostgreSQL 15 has no uuidv7()): the unix-ms timestamp
 * overlaid on a random v4 UUID, version bits turned 4 → 7. Used where rows are created by an
 * INSERT … SELECT whose row count the app does not know in advance.
 */
const UUIDV7_EXPR = `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`;

/** One message per enabled endpoint of workspace $1 subscribed to event type $3 (see fanOut). */
const FAN_OUT_SQL = `
insert into webhook_messages (id, workspace_id, endpoint_id, event_id, event_type, body, status, next_attempt_at)
select ${UUIDV7_EXPR}, e.workspace_id, e.id, $2::uuid, $3::text, $4::text, 'pending', now()
from webhook_endpoints e
where e.workspace_id = $1
  and e.enabled
  and (e.event_types @> array['*']::text[] or e.event_types @> array[$3::text])
on conflict (endpoint_id, event_id) do nothing
returning id, endpoint_id`;

/**
 * Takes the lease of attempt $3 of message $2 (lease $4 ms) in one round trip, returning the
 * message and its endpoint as JSON rows: only if that attempt has not been made, the message is
 * still deliverable and no other attempt holds a live lease.
 */
const CLAIM_ATTEMPT_SQL = `
with m as (
  update webhook_messages set status = 'sending', lease_until = now() + $4::int * interval '1 millisecond', updated_at = now()
  where workspace_id = $1 and id = $2
    and attempts = $3::int - 1
    and status in ('pending', 'retrying', 'sending')
    and (lease_until is null or lease_until < now())
  returning *
)
select row_to_json(m.*) as message, row_to_json(e.*) as endpoint
from m join webhook_endpoints e on e.id = m.endpoint_id`;

/**
 * The attempt log row and the message's new state, one statement. `set_config(…, true)` scopes
 * `synchronous_commit` to this statement's own transaction ($20 = 'off' skips the WAL-flush
 * wait at its commit), so the hot path needs no BEGIN / SET LOCAL / COMMIT round trips.
 */
const RECORD_ATTEMPT_SQL = `
with cfg as (
  select set_config('synchronous_commit', $20::text, true)
),
ins as (
  insert into webhook_attempts (id, workspace_id, message_id, endpoint_id, attempt, trigger, url, status_code, ok, error_code,
    error_message, response_headers, response_body, response_truncated, duration_ms)
  select ${UUIDV7_EXPR}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14
  from cfg
  on conflict (message_id, attempt) do nothing
  returning message_id
)
update webhook_messages m set
  attempts = $4,
  status = $15,
  next_attempt_at = $16,
  last_status_code = $17,
  last_error = $18,
  succeeded_at = case when $19::boolean then now() else m.succeeded_at end,
  lease_until = null,
  updated_at = now()
from ins where m.id = ins.message_id and m.workspace_id = $1
returning m.id`;

export type MessageRow = typeof webhookMessages.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface ClaimedAttempt {
  message: MessageRow;
  endpoint: EndpointRow;
}

export interface AttemptRecord {
  attempt: number;
  trigger: string;
  url: string;
  statusCode: number | null;
  ok: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  responseHeaders: Record<string, string>;
  responseBody: string;
  responseTruncated: boolean;
  durationMs: number;
}

export interface MessageOutcome {
  status: MessageStatus;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  succeeded: boolean;
}

/** Messages (one per endpoint and event) and their attempt log. Every method takes the WorkspaceId first. */
@Injectable()
export class DeliveriesRepository {
  constructor(
    @Inject(DRIZZLE) private readonly db: Db,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  /**
   * Fan-out: one message per enabled endpoint of the workspace subscribed to the type, in one
   * statement. The unique (endpoint, event) makes a re-run of the same event a no-op; returns
   * only the messages created now.
   */
  async fanOut(
    workspaceId: WorkspaceId,
    event: { id: string; type: string },
    body: string,
  ): Promise<Array<{ id: string; endpointId: string }>> {
    const rows = await this.database.pool.query<{ id: string; endpoint_id: string }>(
      statement(this.database, 'webhook_fan_out_v1', FAN_OUT_SQL, [workspaceId, event.id, event.type, body]),
    );
    return rows.rows.map((r) => ({ id: r.id, endpointId: r.endpoint_id }));
  }

  async insertMessage(
    workspaceId: WorkspaceId,
    values: { id: string; endpointId: string; eventId: string | null; eventType: string; body: string },
  ): Promise<MessageRow> {
    const [row] = await this.db
      .insert(webhookMessages)
      .values({ ...values, workspaceId, status: 'pending', nextAttemptAt: sql`now()` })
      .returning();
    return row;
  }

  /**
   * Takes the lease for attempt `attempt` of a message in one round trip: only if that attempt
   * has not been made, the message is still deliverable and no other attempt holds a live
   * lease. Returns the message and its endpoint, or undefined (a duplicate job: skip).
   */
  async claimAttempt(
    workspaceId: WorkspaceId,
    messageId: string,
    attempt: number,
    leaseMs: number,
  ): Promise<ClaimedAttempt | undefined> {
    const res = await this.database.pool.query<{ message: Record<string, unknown>; endpoint: Record<string, unknown> }>(
      statement(this.database, 'webhook_claim_v1', CLAIM_ATTEMPT_SQL, [workspaceId, messageId, attempt, leaseMs]),
    );
    const row = res.rows[0];
    if (!row) return undefined;
    return { message: fromSnake<MessageRow>(row.message), endpoint: fromSnake<EndpointRow>(row.endpoint) };
  }

  /** Why a claim failed: the attempt is made (or the message is over), or a live lease holds it. */
  async claimState(
    workspaceId: WorkspaceId,
    messageId: string,
    attempt: number,
  ): Promise<{ leasedUntil: Date } | { done: true }> {
    const [m] = await this.db
      .select({ attempts: webhookMessages.attempts, status: webhookMessages.status, leaseUntil: webhookMessages.leaseUntil })
      .from(webhookMessages)
      .where(and(eq(webhookMessages.workspaceId, workspaceId), eq(webhookMessages.id, messageId)));
    if (m && m.attempts === attempt - 1 && m.status === 'sending' && m.leaseUntil && m.leaseUntil.getTime() > Date.now()) {
      return { leasedUntil: m.leaseUntil };
    }
    return { done: true };
  }

  /**
   * Records one attempt and the message's new state in one statement (see RECORD_ATTEMPT_SQL):
   * the attempt log row is unique per (message, attempt), so a duplicate finisher changes nothing.
   * `durable: false` (the hot path) commits without waiting for the WAL flush: a crash can lose
   * the last few attempt logs, and the sweep then sends those attempts again with the same
   * webhook-id (at least once, as promised). Returns false when the attempt was already logged.
   */
  async recordAttempt(
    workspaceId: WorkspaceId,
    message: Pick<MessageRow, 'id' | 'endpointId'>,
    a: AttemptRecord,
    outcome: MessageOutcome,
    opts: { durable: boolean },
  ): Promise<boolean> {
    const res = await this.database.pool.query(
      statement(this.database, 'webhook_record_attempt_v1', RECORD_ATTEMPT_SQL, [
        workspaceId,
        message.id,
        message.endpointId,
        a.attempt,
        a.trigger,
        a.url,
        a.statusCode,
        a.ok,
        a.errorCode,
        a.errorMessage,
        JSON.stringify(a.responseHeaders),
        a.responseBody,
        a.responseTruncated,
        a.durationMs,
        outcome.status,
        outcome.nextAttemptAt,
        outcome.lastStatusCode,
        outcome.lastError,
        outcome.succeeded,
        opts.durable ? 'on' : 'off',
      ]),
    );
    return res.rows.length > 0;
  }

  /** Gives a claimed attempt back without making it (rate limited: try again later). */
  async releaseClaim(workspaceId: WorkspaceId, messageId: string, status: MessageStatus, nextAttemptAt: Date): Promise<void> {
    await this.db
      .update(webhookMessages)
      .set({ status, nextAttemptAt, leaseUntil: null, updatedAt: sql`now()` })
      .where(and(eq(webhookMessages.workspaceId, workspaceId), eq(webhookMessages.id, messageId)));
  }

  async cancel(workspaceId: WorkspaceId, messageId: string, reason: string): Promise<void> {
    await this.db
      .update(webhookMessages)
      .set({ status: 'cancelled', lastError: reason, leaseUntil: null, nextAttemptAt: null, updatedAt: sql`now()` })
      .where(and(eq(webhookMessages.workspaceId, workspaceId), eq(webhookMessages.id, messageId)));
  }

  async listMessages(
    workspaceId: WorkspaceId,
    endpointId: string,
    f: { status?: MessageStatus; eventType?: string },
    limit: number,
    beforeId?: string,
  ): Promise<MessageRow[]> {
    return this.db
      .select()
      .from(webhookMessages)
      .where(
        and(
          eq(webhookMessages.workspaceId, workspaceId),
          eq(webhookMessages.endpointId, endpointId),
          f.status ? eq(webhookMessages.status, f.status) : undefined,
          f.eventType ? eq(webhookMessages.eventType, f.eventType) : undefined,
          beforeId ? lt(webhookMessages.id, beforeId) : undefined,
        ),
      )
      .orderBy(desc(webhookMessages.id))
      .limit(limit + 1);
  }

  async findMessage(workspaceId: WorkspaceId, endpointId: string, id: string): Promise<MessageRow | undefined> {
    const [row] = await this.db
      .select()
      .from(webhookMessages)
      .where(
        and(eq(webhookMessages.workspaceId, workspaceId), eq(webhookMessages.endpointId, endpointId), eq(webhookMessages.id, id)),
      );
    return row;
  }

  async attemptsOf(workspaceId: WorkspaceId, messageId: string): Promise<AttemptRow[]> {
    return this.db
      .select()
      .from(webhookAttempts)
      .where(and(eq(webhookAttempts.workspaceId, workspaceId), eq(webhookAttempts.messageId, messageId)))
      .orderBy(asc(webhookAttempts.attempt));
  }

  /**
   * Starts a new retry cycle for messages (resend, recover): status `pending`, due now, the
   * attempts so far become the cycle offset. Succeeded messages are resent only when asked
   * explicitly (`includeSucceeded`, a resend of one message).
   */
  async restart(
    workspaceId: WorkspaceId,
    endpointId: string,
    where: { ids?: string[]; since?: Date; includeSucceeded: boolean },
  ): Promise<Array<{ id: string; attempts: number }>> {
    const rows = await this.db
      .update(webhookMessages)
      .set({
        status: 'pending',
        cycleOffset: sql`${webhookMessages.attempts}`,
        nextAttemptAt: sql`now()`,
        leaseUntil: null,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(webhookMessages.workspaceId, workspaceId),
          eq(webhookMessages.endpointId, endpointId),
          where.ids ? inArray(webhookMessages.id, where.ids) : undefined,
          where.since ? gte(webhookMessages.createdAt, where.since) : undefined,
          where.includeSucceeded
            ? sql`${webhookMessages.status} <> 'sending'`
            : inArray(webhookMessages.status, ['exhausted', 'cancelled', 'retrying']),
        ),
      )
      .returning({ id: webhookMessages.id, attempts: webhookMessages.attempts });
    return rows;
  }

  /**
   * System sweep (all workspaces): messages due whose job may have been lost (queue away at
   * enqueue time, worker killed): pending/retrying past their time, or sending with a lapsed lease.
   */
  async dueAcrossWorkspaces(
    graceMs: number,
    limit: number,
  ): Promise<Array<{ id: string; workspaceId: string; attempts: number; status: MessageStatus }>> {
    const rows = await this.db
      .select({
        id: webhookMessages.id,
        workspaceId: webhookMessages.workspaceId,
        attempts: webhookMessages.attempts,
        status: webhookMessages.status,
      })
      .from(webhookMessages)
      .where(
        sql`(${webhookMessages.status} in ('pending', 'retrying') and ${webhookMessages.nextAttemptAt} < now() - ${graceMs} * interval '1 millisecond')
          or (${webhookMessages.status} = 'sending' and ${webhookMessages.leaseUntil} < now())`,
      )
      .orderBy(asc(webhookMessages.nextAttemptAt))
      .limit(limit);
    return rows;
  }
}

const camelCache = new Map<string, string>();
const camel = (key: string) => {
  let c = camelCache.get(key);
  if (c === undefined) camelCache.set(key, (c = key.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())));
  return c;
};
const TIMESTAMP_KEY = /(_at|_since|_until)$/;

/** row_to_json gives snake_case keys and ISO strings; map them to the drizzle row shape. */
function fromSnake<T>(obj: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const k in obj) {
    const v = obj[k];
    out[camel(k)] = typeof v === 'string' && TIMESTAMP_KEY.test(k) ? new Date(v) : v;
  }
  return out as T;
}
