import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { idColumn } from './columns';
import { workspaces } from './identity';

const tz = () => timestamp({ withTimezone: true, mode: 'date' });

/**
 * The transactional outbox (src/events). A service inserts a row in the same transaction as the
 * change it describes; the relay (worker role) publishes unpublished rows to the queue with
 * `jobId = id` and sets `published_at`. `claimed_until` is the relay's short lease on a batch,
 * so several relays can run without publishing one row twice at the same time. Payloads carry
 * ids, not personal data (the truth stays in the tables they point at).
 */
export const events = pgTable(
  'events',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** A type from the catalogue in src/events/catalogue.ts, e.g. `lead.created`. */
    type: text().notNull(),
    payload: jsonb().notNull(),
    /** The HTTP request (or job) that caused the event; flows into job logs. */
    requestId: text(),
    occurredAt: tz().notNull().defaultNow(),
    publishedAt: tz(),
    claimedUntil: tz(),
  },
  (t) => [
    // The relay's work list: tiny, because published rows leave it.
    index('events_unpublished_idx')
      .on(t.id)
      .where(sql`${t.publishedAt} is null`),
    index('events_workspace_idx').on(t.workspaceId, t.id),
    index('events_published_at_idx').on(t.publishedAt),
  ],
);

/**
 * Idempotent effects (src/jobs/effects.ts): one row per side effect keyed by (kind, subject),
 * e.g. ('email.welcome', lead id). A redelivered job finds the row and does not repeat the
 * effect. `state` is `running` while an attempt holds the lease (`locked_until`), then `done`.
 */
export const effects = pgTable(
  'effects',
  {
    kind: text().notNull(),
    subject: text().notNull(),
    state: text({ enum: ['running', 'done'] }).notNull(),
    /** Lease of the attempt in progress; another attempt may take over once it has passed. */
    lockedUntil: tz(),
    /** Small JSON result of the effect (e.g. a provider's message id). */
    result: jsonb(),
    /** Optional expiry; the prune job deletes done rows past it. Null = kept. */
    expiresAt: tz(),
    createdAt: tz().notNull().defaultNow(),
    completedAt: tz(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.subject] }), index('effects_expires_idx').on(t.expiresAt)],
);
