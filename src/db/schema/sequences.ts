import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns';
import { createdAt, idColumn, updatedAt } from './columns';
import { emailTemplates } from './email';
import { workspaces } from './identity';
import { leads } from './leads';

const tz = () => timestamp({ withTimezone: true, mode: 'date' });

export const SEQUENCE_STATUSES = ['active', 'paused', 'archived'] as const;

/**
 * Email sequences (marketing automation). `trigger` is
 * `{ type: "lead_captured", source?, tag?, campaign_id?, channels? } | { type: "tag_added", tag } | { type: "manual" }`.
 */
export const sequences = pgTable(
  'sequences',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    status: text({ enum: SEQUENCE_STATUSES }).notNull().default('active'),
    trigger: jsonb().notNull(),
    /** Sends are attributed to this campaign in its stats. */
    campaignId: uuid().references(() => campaigns.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('sequences_workspace_idx').on(t.workspaceId, t.id)],
);

/** Ordered steps: wait `delay_seconds` after the previous step (or enrolment), then send the template. */
export const sequenceSteps = pgTable(
  'sequence_steps',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    sequenceId: uuid()
      .notNull()
      .references(() => sequences.id, { onDelete: 'cascade' }),
    position: integer().notNull(),
    delaySeconds: integer().notNull(),
    templateId: uuid()
      .notNull()
      .references(() => emailTemplates.id, { onDelete: 'restrict' }),
  },
  (t) => [uniqueIndex('sequence_steps_position_key').on(t.sequenceId, t.position)],
);

export const ENROLMENT_STATUSES = ['waiting_confirmation', 'active', 'completed', 'exited'] as const;

/** A lead's run through a sequence; a lead enrols in a sequence once. */
export const sequenceEnrolments = pgTable(
  'sequence_enrolments',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    sequenceId: uuid()
      .notNull()
      .references(() => sequences.id, { onDelete: 'cascade' }),
    leadId: uuid()
      .notNull()
      .references(() => leads.id, { onDelete: 'cascade' }),
    status: text({ enum: ENROLMENT_STATUSES }).notNull(),
    exitReason: text(),
    /** Index of the next step to run. */
    nextStep: integer().notNull().default(0),
    nextRunAt: tz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('sequence_enrolments_lead_key').on(t.sequenceId, t.leadId),
    index('sequence_enrolments_lead_idx').on(t.workspaceId, t.leadId),
    index('sequence_enrolments_sequence_idx').on(t.workspaceId, t.sequenceId, t.id),
  ],
);
