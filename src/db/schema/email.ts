import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns';
import { createdAt, idColumn, updatedAt } from './columns';
import { workspaces } from './identity';
import { leads } from './leads';

const tz = () => timestamp({ withTimezone: true, mode: 'date' });

/** Email templates: subject, HTML and text parts with `{{lead.first_name}}`-style variables. */
export const emailTemplates = pgTable(
  'email_templates',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    subject: text().notNull(),
    html: text().notNull(),
    text: text().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('email_templates_workspace_idx').on(t.workspaceId, t.id)],
);

export const EMAIL_SEND_STATUSES = ['sending', 'sent', 'skipped', 'failed', 'bounced'] as const;

/**
 * The send log. `idempotency_key` (unique per workspace) is `seq:<enrolment>:<step>` for
 * sequence steps and `confirm:<lead>:<n>` for confirmation mail: a redelivered job finds the row
 * and does not send twice. No address or rendered content is stored (the lead row has the
 * address; a GDPR erase leaves the log without personal data).
 */
export const emailSends = pgTable(
  'email_sends',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    leadId: uuid().references(() => leads.id, { onDelete: 'set null' }),
    kind: text({ enum: ['sequence', 'confirmation'] }).notNull(),
    idempotencyKey: text().notNull(),
    templateId: uuid().references(() => emailTemplates.id, { onDelete: 'set null' }),
    sequenceId: uuid(),
    enrolmentId: uuid(),
    stepIndex: integer(),
    campaignId: uuid().references(() => campaigns.id, { onDelete: 'set null' }),
    status: text({ enum: EMAIL_SEND_STATUSES }).notNull(),
    skipReason: text(),
    messageId: text(),
    error: text(),
    attempts: integer().notNull().default(0),
    /** Lease of the attempt in progress (a crashed worker's attempt can be taken over after it). */
    lockedUntil: tz(),
    createdAt: createdAt(),
    sentAt: tz(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('email_sends_idempotency_key').on(t.workspaceId, t.idempotencyKey),
    index('email_sends_lead_idx').on(t.workspaceId, t.leadId),
    index('email_sends_campaign_idx').on(t.workspaceId, t.campaignId, t.status),
  ],
);
