import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { uuidv7 } from 'uuidv7';
import { idColumn } from './columns';
import { workspaces } from './identity';

const tz = () => timestamp({ withTimezone: true, mode: 'date' });

export const WEBHOOK_PROVIDERS = ['stripe', 'hubspot', 'zapier', 'standard', 'hmac'] as const;
export const INBOUND_STATUSES = ['received', 'processing', 'processed', 'ignored', 'failed'] as const;
export const ENDPOINT_KINDS = ['webhook', 'zapier'] as const;
export const MESSAGE_STATUSES = ['pending', 'sending', 'retrying', 'succeeded', 'exhausted', 'cancelled'] as const;

/**
 * Inbound webhook sources: one per provider account that posts to us. Each has an unguessable
 * URL `/api/v1/webhooks/in/:id`. `secrets_sealed` is one SecretBox envelope (AAD = the source id)
 * of a JSON list of `{ secret, expires_at }`: several are active while a secret is rotated.
 */
export const webhookSources = pgTable(
  'webhook_sources',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    provider: text({ enum: WEBHOOK_PROVIDERS }).notNull(),
    name: text().notNull(),
    secretsSealed: text().notNull(),
    /** Provider options: HMAC header/algorithm/encoding, HubSpot legacy signatures, Zapier key header. */
    settings: jsonb().notNull().default({}),
    enabled: boolean().notNull().default(true),
    lastReceivedAt: tz(),
    createdAt: tz().notNull().defaultNow(),
    updatedAt: tz().notNull().defaultNow(),
  },
  (t) => [index('webhook_sources_workspace_idx').on(t.workspaceId, t.id)],
);

/**
 * The inbox: every verified inbound event, once. The unique (workspace, source key, provider
 * event id) makes a redelivery a no-op; `source_key` is the source id, or `seed:stripe` for the
 * single-workspace route verified with WEBHOOK_SECRET. The row is also the work item: a relay
 * hands `received` rows to the processing job, so ingest is one durable write.
 */
export const inboundEvents = pgTable(
  'inbound_events',
  {
    /** UUIDv7; the primary key is (workspace_id, id) so that one index serves both. */
    id: uuid()
      .notNull()
      .$defaultFn(() => uuidv7()),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    sourceId: uuid().references(() => webhookSources.id, { onDelete: 'set null' }),
    sourceKey: text().notNull(),
    provider: text({ enum: WEBHOOK_PROVIDERS }).notNull(),
    providerEventId: text().notNull(),
    type: text().notNull(),
    payload: jsonb().notNull(),
    /** A subset of the request headers (signature headers and content type; never credentials). */
    headers: jsonb().notNull().default({}),
    receivedAt: tz().notNull().defaultNow(),
    status: text({ enum: INBOUND_STATUSES }).notNull().default('received'),
    attempts: integer().notNull().default(0),
    processedAt: tz(),
    lastError: text(),
    /** What processing did (e.g. `lead_updated`, `no_handler`, `lead_not_found`). */
    outcome: text(),
    replayCount: integer().notNull().default(0),
    /** Relay lease: set while the row is being handed to the queue. */
    claimedUntil: tz(),
  },
  (t) => [
    // Ingest writes every index below on each event, so there are as few as the reads allow: the
    // primary key serves lookups by (workspace, id) and the newest-first list; the dedupe key the
    // duplicate check; the partial index the relay's scan for rows still to hand over.
    primaryKey({ name: 'inbound_events_pkey', columns: [t.workspaceId, t.id] }),
    uniqueIndex('inbound_events_dedupe_key').on(t.workspaceId, t.sourceKey, t.providerEventId),
    index('inbound_events_pending_idx')
      .on(t.id)
      .where(sql`${t.status} = 'received'`),
  ],
);

/**
 * Outbound endpoints (`kind = webhook`) and Zapier REST hook subscriptions (`kind = zapier`): one
 * delivery engine for both. `secrets_sealed` holds `[{ secret: 'whsec_…', expires_at }]`; after
 * a rotation the old secret keeps signing until it expires (24 h).
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    kind: text({ enum: ENDPOINT_KINDS }).notNull().default('webhook'),
    url: text().notNull(),
    description: text().notNull().default(''),
    /** Catalogue event types, or `['*']` for all. */
    eventTypes: text().array().notNull(),
    enabled: boolean().notNull().default(true),
    /** `gone` (410), `failing` (5 days of failures), `manual`. */
    disabledReason: text(),
    disabledAt: tz(),
    /** Deliveries per second to this endpoint; null = no limit. */
    rateLimitPerSecond: integer(),
    secretsSealed: text().notNull(),
    /** Start of the current run of failed attempts; null while healthy. */
    failingSince: tz(),
    createdAt: tz().notNull().defaultNow(),
    updatedAt: tz().notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_workspace_idx').on(t.workspaceId, t.kind, t.id)],
);

/**
 * One message per (endpoint, event): its id is the `webhook-id` header, the same on every attempt
 * and on a resend, so receivers can deduplicate. `body` is the exact JSON sent.
 */
export const webhookMessages = pgTable(
  'webhook_messages',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    endpointId: uuid()
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** The outbox event; null for `POST …/test` messages. */
    eventId: uuid(),
    eventType: text().notNull(),
    body: text().notNull(),
    status: text({ enum: MESSAGE_STATUSES }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    /** Attempts made before the current retry cycle (a resend or recover starts a new cycle). */
    cycleOffset: integer().notNull().default(0),
    nextAttemptAt: tz(),
    /** Lease of the attempt in progress: a duplicate job cannot send the same attempt twice. */
    leaseUntil: tz(),
    lastStatusCode: integer(),
    lastError: text(),
    succeededAt: tz(),
    createdAt: tz().notNull().defaultNow(),
    updatedAt: tz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_messages_endpoint_event_key').on(t.endpointId, t.eventId),
    index('webhook_messages_endpoint_idx').on(t.endpointId, t.id),
    index('webhook_messages_endpoint_status_idx').on(t.endpointId, t.status, t.createdAt),
  ],
);

/** The delivery log: every attempt, with the first 4 KB of the answer. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    messageId: uuid()
      .notNull()
      .references(() => webhookMessages.id, { onDelete: 'cascade' }),
    endpointId: uuid().notNull(),
    attempt: integer().notNull(),
    /** `scheduled`, `resend`, `recover`, `test`. */
    trigger: text().notNull(),
    url: text().notNull(),
    statusCode: integer(),
    ok: boolean().notNull(),
    errorCode: text(),
    errorMessage: text(),
    responseHeaders: jsonb().notNull().default({}),
    responseBody: text().notNull().default(''),
    responseTruncated: boolean().notNull().default(false),
    durationMs: integer().notNull(),
    createdAt: tz().notNull().defaultNow(),
  },
  (t) => [uniqueIndex('webhook_attempts_message_attempt_key').on(t.messageId, t.attempt)],
);
