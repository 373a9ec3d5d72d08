import { z } from 'zod';
import { EVENT_CATALOGUE, EVENT_TYPES, type EventEnvelope } from '../../../events/catalogue';

/** Event types an endpoint or a Zapier hook can subscribe to: the whole catalogue. */
export const OUTBOUND_EVENT_TYPES: readonly string[] = EVENT_TYPES;

/** The ping sent by `POST /webhook-endpoints/:id/test` when no event type is named. */
export const TEST_EVENT_TYPE = 'webhook.test';

const SAMPLE_UUID = '01890a5d-ac96-774b-bcce-b302099a8057';
const SAMPLE_TIME = '2026-01-15T10:30:00.000Z';

type JsonSchema = {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  default?: unknown;
};

/** A plausible value for a JSON schema node (used for samples, validated against the catalogue). */
function sampleOf(s: JsonSchema, key = ''): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return sampleOf(alt.find((a) => a.type !== 'null') ?? alt[0], key);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sampleOf(v, k);
      return out;
    }
    case 'array':
      return s.items ? [sampleOf(s.items, key)] : [];
    case 'integer':
    case 'number':
      return /amount/.test(key) ? 4900 : Math.max(s.minimum ?? 1, 1);
    case 'boolean':
      return false;
    case 'string':
      if (s.format === 'uuid') return SAMPLE_UUID;
      if (s.format === 'date-time') return SAMPLE_TIME;
      if (s.pattern === '^[A-Z]{3}$' || /currency/.test(key)) return 'USD';
      if (/url/.test(key)) return 'https://hooks.example.com/switchboard';
      return key === 'reason' ? 'unsubscribe_link' : key ? `sample_${key}` : 'sample';
    default:
      return null;
  }
}

/** The `data` of a sample event of this type (shaped like the real payload). */
export function samplePayload(type: string): Record<string, unknown> {
  if (!Object.hasOwn(EVENT_CATALOGUE, type)) return { message: 'This is a test event from Switchboard' };
  const spec = EVENT_CATALOGUE[type as keyof typeof EVENT_CATALOGUE];
  const schema = z.toJSONSchema(spec.payload, { unrepresentable: 'any', io: 'output' }) as JsonSchema;
  return sampleOf(schema) as Record<string, unknown>;
}

/** The JSON body of every outbound delivery (Standard Webhooks' recommended envelope). */
export interface OutboundBody {
  id: string;
  type: string;
  timestamp: string;
  workspace_id: string;
  data: Record<string, unknown>;
}

export function bodyForEvent(event: Pick<EventEnvelope, 'id' | 'type' | 'occurred_at' | 'workspace_id' | 'payload'>): string {
  const body: OutboundBody = {
    id: event.id,
    type: event.type,
    timestamp: event.occurred_at,
    workspace_id: event.workspace_id,
    data: event.payload,
  };
  return JSON.stringify(body);
}

export function sampleBody(type: string, workspaceId: string, id = SAMPLE_UUID, at = SAMPLE_TIME): OutboundBody {
  return { id, type, timestamp: at, workspace_id: workspaceId, data: samplePayload(type) };
}
