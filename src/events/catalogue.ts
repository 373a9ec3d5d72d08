import { z } from 'zod';

/**
 * The event catalogue: every event type Switchboard emits, with its payload schema and what it
 * means. Outbound webhooks and Zapier expose these names and payloads to customers, so a type
 * is never renamed and a payload only ever gains optional fields.
 *
 * Rules for payloads:
 * - ids, not blobs: the truth stays in Postgres and is read when the event is handled; personal
 *   data (emails, names) is never copied into an event, so a GDPR erase leaves none behind;
 * - snake_case keys, ISO 8601 UTC timestamps, money as integer minor units + ISO currency;
 * - `z.strictObject`: emitting an unknown key is a programming error and fails the transaction.
 *
 * To add an event: add an entry here (description + schema), emit it with `emit(tx, …)` in the
 * transaction that makes the change, and subscribe with `@OnEvent('<type>')` where it is handled.
 */
const uuid = () => z.uuid();

export const EVENT_CATALOGUE = {
  'lead.created': {
    description:
      'A lead was created (by capture, the API or an import). Not emitted when a capture merges into an existing lead.',
    payload: z.strictObject({
      lead_id: uuid(),
      /** How the lead arrived. */
      source: z.enum(['capture', 'api', 'import']),
      campaign_id: uuid().nullable().optional(),
    }),
  },
  'lead.updated': {
    description: 'Fields of a lead changed (including a capture merged into an existing lead).',
    payload: z.strictObject({
      lead_id: uuid(),
      /** Names of the fields that changed, e.g. ["name", "custom_fields"]. */
      changed_fields: z.array(z.string().min(1).max(64)).max(100),
    }),
  },
  'lead.converted': {
    description: 'A lead became a customer (e.g. a paid Stripe invoice matched the lead).',
    payload: z.strictObject({
      lead_id: uuid(),
      campaign_id: uuid().nullable().optional(),
      /** Conversion value, when known. */
      value: z
        .strictObject({
          amount_minor: z.number().int(),
          currency: z.string().regex(/^[A-Z]{3}$/),
        })
        .nullable()
        .optional(),
    }),
  },
  'lead.unsubscribed': {
    description: 'A lead stopped receiving marketing email (unsubscribe link, one-click POST, bounce, complaint or admin).',
    payload: z.strictObject({
      lead_id: uuid(),
      reason: z.string().min(1).max(64),
    }),
  },
  'lead.deleted': {
    description: 'A lead was deleted; `erased` is true for a GDPR erase (personal data removed, address kept suppressed).',
    payload: z.strictObject({
      lead_id: uuid(),
      erased: z.boolean(),
    }),
  },
  'endpoint.disabled': {
    description:
      'An outbound webhook endpoint (or Zapier hook) was disabled: `gone` when it answered 410, `failing` after 5 days of continuous failure. Recover it with POST /api/v1/webhook-endpoints/{id}/recover.',
    payload: z.strictObject({
      endpoint_id: uuid(),
      kind: z.enum(['webhook', 'zapier']),
      reason: z.enum(['gone', 'failing']),
    }),
  },
} as const satisfies Record<string, EventSpec>;

export interface EventSpec {
  description: string;
  payload: z.ZodType<Record<string, unknown>>;
}

export type EventType = keyof typeof EVENT_CATALOGUE;
export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_CATALOGUE)[T]['payload']>;
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_CATALOGUE, type);
}

/** What subscribers receive: the stored event, payload validated against the catalogue. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  workspace_id: string;
  occurred_at: string;
  request_id: string | null;
  payload: EventPayload<T>;
}
