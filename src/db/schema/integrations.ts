import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from './columns';
import { workspaces } from './identity';
import { leads } from './leads';

const tz = () => timestamp({ withTimezone: true, mode: 'date' });

/**
 * CRM connections (HubSpot). The private-app token is a SecretBox envelope (AES-256-GCM,
 * ENCRYPTION_KEY) bound to the row id; it is never returned by the API.
 */
export const crmConnections = pgTable(
  'crm_connections',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    provider: text({ enum: ['hubspot'] }).notNull(),
    tokenCiphertext: text().notNull(),
    tokenKeyId: text().notNull(),
    enabled: boolean().notNull().default(true),
    lastSyncAt: tz(),
    lastError: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('crm_connections_provider_key').on(t.workspaceId, t.provider),
    index('crm_connections_workspace_idx').on(t.workspaceId),
  ],
);

/** Leads whose CRM copy is stale; the sync job drains this in batches of 100 (ids only). */
export const crmPending = pgTable(
  'crm_pending',
  {
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    provider: text({ enum: ['hubspot'] }).notNull(),
    leadId: uuid()
      .notNull()
      .references(() => leads.id, { onDelete: 'cascade' }),
    attempts: integer().notNull().default(0),
    queuedAt: tz().notNull().defaultNow(),
    /** Lease of the sync run that took the row (rows are deleted after a successful upsert). */
    claimedUntil: tz(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.provider, t.leadId] }),
    index('crm_pending_queued_idx').on(t.workspaceId, t.provider, t.queuedAt),
  ],
);
