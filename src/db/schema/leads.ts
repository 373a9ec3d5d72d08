import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns';
import { createdAt, idColumn, updatedAt } from './columns';
import { users, workspaces } from './identity';

const tz = () => timestamp({ withTimezone: true, mode: 'date' });

export const LEAD_STATUS_VALUES = ['new', 'contacted', 'qualified', 'customer', 'unsubscribed', 'bounced'] as const;
export const CONSENT_STATUS_VALUES = ['granted', 'pending', 'none'] as const;

/**
 * Leads. `email` is normalised (trimmed, NFC, lower-case) and unique per workspace;
 * `email_key` is the variant key (Gmail dots, +tags) used to flag possible duplicates.
 * UTM parameters of the first and the latest touch are kept as JSON objects.
 */
export const leads = pgTable(
  'leads',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    email: text().notNull(),
    emailKey: text().notNull(),
    firstName: text(),
    lastName: text(),
    phone: text(),
    company: text(),
    source: text(),
    status: text({ enum: LEAD_STATUS_VALUES }).notNull().default('new'),
    tags: text()
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    customFields: jsonb().notNull().default({}),
    consentStatus: text({ enum: CONSENT_STATUS_VALUES }).notNull().default('none'),
    consentAt: tz(),
    consentIp: text(),
    consentWording: text(),
    firstTouch: jsonb().notNull().default({}),
    lastTouch: jsonb().notNull().default({}),
    campaignId: uuid().references(() => campaigns.id, { onDelete: 'set null' }),
    possibleDuplicateOf: uuid().references((): AnyPgColumn => leads.id, { onDelete: 'set null' }),
    /** Double opt-in: when the person confirmed through the emailed link. */
    confirmedAt: tz(),
    convertedAt: tz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('leads_email_key').on(t.workspaceId, t.email),
    index('leads_email_variant_idx').on(t.workspaceId, t.emailKey),
    index('leads_workspace_idx').on(t.workspaceId, t.id),
    index('leads_status_idx').on(t.workspaceId, t.status, t.id),
    index('leads_campaign_idx').on(t.workspaceId, t.campaignId, t.id),
    index('leads_created_idx').on(t.workspaceId, t.createdAt),
    index('leads_tags_idx').using('gin', t.tags),
    check('leads_status_check', sql`${t.status} in ('new','contacted','qualified','customer','unsubscribed','bounced')`),
    check('leads_consent_check', sql`${t.consentStatus} in ('granted','pending','none')`),
  ],
);

/** The timeline of a lead: created, merged, updated, emailed, status changes, unsubscribed, converted … */
export const leadActivities = pgTable(
  'lead_activities',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    leadId: uuid()
      .notNull()
      .references(() => leads.id, { onDelete: 'cascade' }),
    type: text().notNull(),
    data: jsonb().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('lead_activities_lead_idx').on(t.workspaceId, t.leadId, t.id)],
);

/**
 * Revenue attributed to leads and campaigns (Stripe payments, refunds as negative amounts, …).
 * `external_id` is unique per workspace and source, so a redelivered provider event counts once.
 * `lead_id` survives a GDPR erase as null: the revenue stays, the person does not.
 */
export const conversions = pgTable(
  'conversions',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    leadId: uuid().references(() => leads.id, { onDelete: 'set null' }),
    campaignId: uuid().references(() => campaigns.id, { onDelete: 'set null' }),
    amountMinor: bigint({ mode: 'number' }).notNull(),
    currency: text().notNull(),
    occurredAt: tz().notNull(),
    source: text().notNull(),
    externalId: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('conversions_external_key').on(t.workspaceId, t.source, t.externalId),
    index('conversions_lead_idx').on(t.workspaceId, t.leadId),
    index('conversions_campaign_idx').on(t.workspaceId, t.campaignId, t.occurredAt),
    index('conversions_occurred_idx').on(t.workspaceId, t.occurredAt),
    check('conversions_currency_check', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

/**
 * Addresses that must never be mailed again (unsubscribed, bounced, complained, erased), as
 * SHA-256 of `<workspace id>:<normalised email>`: the list outlives a GDPR erase without
 * keeping the address itself.
 */
export const suppressions = pgTable(
  'suppressions',
  {
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    emailHash: text().notNull(),
    reason: text({ enum: ['unsubscribed', 'bounced', 'complained', 'erased', 'manual'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.emailHash] })],
);

/** A CSV import: staged rows are validated in the request, merged by one job with visible progress. */
export const leadImports = pgTable(
  'lead_imports',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    status: text({ enum: ['queued', 'running', 'completed', 'failed'] }).notNull(),
    filename: text(),
    totalRows: integer().notNull().default(0),
    validRows: integer().notNull().default(0),
    invalidRows: integer().notNull().default(0),
    processedRows: integer().notNull().default(0),
    createdCount: integer().notNull().default(0),
    mergedCount: integer().notNull().default(0),
    failedCount: integer().notNull().default(0),
    /** Per-row problems (first 1,000): `[{ row, line, errors: [{ path, message }] }]`. */
    errors: jsonb().notNull().default([]),
    error: text(),
    createdBy: uuid().references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    startedAt: tz(),
    finishedAt: tz(),
    updatedAt: updatedAt(),
  },
  (t) => [index('lead_imports_workspace_idx').on(t.workspaceId, t.id)],
);

/** Validated rows waiting for the import job (deleted as they are merged; erased with the person). */
export const leadImportRows = pgTable(
  'lead_import_rows',
  {
    importId: uuid()
      .notNull()
      .references(() => leadImports.id, { onDelete: 'cascade' }),
    row: integer().notNull(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    email: text().notNull(),
    data: jsonb().notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.row] }), index('lead_import_rows_email_idx').on(t.workspaceId, t.email)],
);

/** Per-workspace capture settings (double opt-in and where the confirmation link lands). */
export const leadSettings = pgTable('lead_settings', {
  workspaceId: uuid()
    .primaryKey()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  doubleOptIn: boolean().notNull().default(false),
  /** Shown after a successful confirmation (otherwise a built-in page). */
  confirmationRedirectUrl: text(),
  updatedAt: updatedAt(),
});
