import { createHash } from 'node:crypto';
import type { QueryResultRow } from 'pg';
import { uuidv7 } from 'uuidv7';
import type { WorkspaceId } from '../../auth/auth-context';
import type { Database } from '../../db/database';
import { statement } from '../../db/statement';
import { cleanUtm, emailVariantKey, isEmptyValue, type CustomFields, type Utm } from './lead-normalization';
import type { ConsentStatus, LeadInput } from './leads.schemas';

/** How a lead arrived (the `source` of `lead.created`). */
export type LeadVia = 'capture' | 'api' | 'import';

/** SHA-256 of `<workspace id>:<normalised email>`: the suppression list key. */
export function suppressionHash(workspaceId: string, normalizedEmail: string): string {
  return createHash('sha256').update(`${workspaceId}:${normalizedEmail}`).digest('hex');
}

/**
 * Merge expressions per column (`l` = stored row, `excluded` = incoming), the SQL twin of
 * `mergeLead()` in lead-normalization.ts (an integration test checks they agree). Incoming empty
 * values arrive as NULL / `{}` / `[]`, so `coalesce` implements "never overwrite with empty".
 */
const MERGE: Array<[column: string, expression: string]> = [
  ['first_name', 'coalesce(excluded.first_name, l.first_name)'],
  ['last_name', 'coalesce(excluded.last_name, l.last_name)'],
  ['phone', 'coalesce(excluded.phone, l.phone)'],
  ['company', 'coalesce(excluded.company, l.company)'],
  ['source', 'coalesce(l.source, excluded.source)'],
  [
    'tags',
    `case when excluded.tags <@ l.tags then l.tags else array(select u.t from unnest(l.tags || excluded.tags) with ordinality as u(t, n) group by u.t order by min(u.n)) end`,
  ],
  ['custom_fields', 'l.custom_fields || excluded.custom_fields'],
  ['first_touch', `case when l.first_touch = '{}'::jsonb then excluded.first_touch else l.first_touch end`],
  ['last_touch', `case when excluded.last_touch = '{}'::jsonb then l.last_touch else excluded.last_touch end`],
  ['campaign_id', 'coalesce(l.campaign_id, excluded.campaign_id)'],
];
/** Consent only ever moves up: none < pending < granted (a revocation goes through PATCH or unsubscribe). */
const CONSENT_UP = `array_position(array['none','pending','granted'], excluded.consent_status) > array_position(array['none','pending','granted'], l.consent_status)`;
const CONSENT: Array<[string, string]> = ['consent_status', 'consent_at', 'consent_ip', 'consent_wording'].map((c) => [
  c,
  `case when ${CONSENT_UP} then excluded.${c} else l.${c} end`,
]);
const ALL_MERGE = [...MERGE, ...CONSENT];

/** Field names reported in `changed_fields` (API names), with the column compared. */
const CHANGE_NAMES: Array<[name: string, column: string]> = [
  ['first_name', 'first_name'],
  ['last_name', 'last_name'],
  ['phone', 'phone'],
  ['company', 'company'],
  ['source', 'source'],
  ['tags', 'tags'],
  ['custom_fields', 'custom_fields'],
  ['first_touch', 'first_touch'],
  ['last_touch', 'last_touch'],
  ['campaign_id', 'campaign_id'],
  ['consent', 'consent_status'],
];

/**
 * Create-or-merge as ONE statement (one round trip, no BEGIN/COMMIT): data-modifying CTEs
 * upsert the lead, append the timeline entry and write the outbox event atomically.
 * - `old` reads the stored row (statement snapshot) to report what changed;
 * - the upsert's `WHERE … IS DISTINCT FROM …` skips no-op merges (no dead tuple, no event);
 * - a new lead takes its status from the suppression list (an erased or unsubscribed address
 *   comes back suppressed) and is flagged when a Gmail/+tag variant already exists. `dup` is
 *   MATERIALIZED, with the ORDER BY … LIMIT 1 outside it: inline, a generic plan made while the
 *   table was small (a fresh install) walked the primary key in id order filtering every row —
 *   a full scan per capture, since there usually is no variant;
 * - `lead.created` for a new lead, `lead.updated` when a merge changed something.
 * The result is empty only when a concurrent insert won the race and our merge was a no-op:
 * the caller runs the statement again (then `old` sees the row).
 */
export const UPSERT_LEAD_SQL = `
with old as (
  select * from leads where workspace_id = $1 and email = $3
),
dup as materialized (
  select id from leads where workspace_id = $1 and email_key = $4 and email <> $3
),
camp as (
  select id from campaigns where workspace_id = $1 and utm_campaign = $13 limit 1
),
supp as (
  select reason from suppressions where workspace_id = $1 and email_hash = $14
),
up as (
  insert into leads as l (id, workspace_id, email, email_key, first_name, last_name, phone, company, source, tags,
    custom_fields, first_touch, last_touch, campaign_id, possible_duplicate_of, status,
    consent_status, consent_at, consent_ip, consent_wording)
  values ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10::text[], $11::jsonb, $12::jsonb, $12::jsonb,
    (select id from camp), (select id from dup order by id limit 1),
    coalesce((select case when reason = 'bounced' then 'bounced' else 'unsubscribed' end from supp limit 1), 'new'),
    $15, $16::timestamptz, $17, $18)
  on conflict (workspace_id, email) do update set
    ${ALL_MERGE.map(([c, e]) => `${c} = ${e}`).join(',\n    ')},
    updated_at = now()
  where (${ALL_MERGE.map(([, e]) => e).join(', ')}) is distinct from (${ALL_MERGE.map(([c]) => `l.${c}`).join(', ')})
  returning l.*, (l.xmax = 0) as inserted
),
chg as (
  select up.id, up.inserted,
    case when up.inserted then '{}'::text[] else array_remove(array[
      ${CHANGE_NAMES.map(([n, c]) => `case when up.${c} is distinct from o.${c} then '${n}' end`).join(',\n      ')}
    ]::text[], null) end as changed
  from up left join old o on o.id = up.id
),
res as (
  select * from up
  union all
  select o.*, false as inserted from old o where not exists (select 1 from up)
),
act as (
  insert into lead_activities (id, workspace_id, lead_id, type, data)
  select $19, $1, r.id, case when r.inserted then 'created' else 'merged' end,
    jsonb_build_object('via', $21::text, 'changed_fields', coalesce((select to_jsonb(changed) from chg), '[]'::jsonb))
  from res r
),
ev as (
  insert into events (id, workspace_id, type, payload, request_id)
  select $20, $1,
    case when c.inserted then 'lead.created' else 'lead.updated' end,
    case when c.inserted then jsonb_build_object('lead_id', c.id, 'source', $21::text, 'campaign_id', up.campaign_id)
      else jsonb_build_object('lead_id', c.id, 'changed_fields', to_jsonb(c.changed)) end,
    $22
  from chg c join up on up.id = c.id
  where c.inserted or cardinality(c.changed) > 0
  returning id
)
select r.*, coalesce((select changed from chg), '{}'::text[]) as changed_fields, (select count(*) from ev)::int as events
from res r`;

export interface LeadRow extends QueryResultRow {
  id: string;
  workspace_id: string;
  email: string;
  email_key: string;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  company: string | null;
  source: string | null;
  status: string;
  tags: string[];
  custom_fields: CustomFields;
  consent_status: ConsentStatus;
  consent_at: Date | null;
  consent_ip: string | null;
  consent_wording: string | null;
  first_touch: Utm;
  last_touch: Utm;
  campaign_id: string | null;
  possible_duplicate_of: string | null;
  confirmed_at: Date | null;
  converted_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface UpsertRow extends LeadRow {
  inserted: boolean;
  changed_fields: string[];
  events: number;
}

export interface UpsertOptions {
  via: LeadVia;
  requestId?: string | null;
  /** Consent a NEW lead gets when the input names none (e.g. `pending` under double opt-in). */
  consentOverride?: { status: ConsentStatus; ip?: string; wording?: string };
  now?: Date;
}

const orNull = (v: string | null | undefined) => (isEmptyValue(v) ? null : v!);

/** Parameters of UPSERT_LEAD_SQL for one validated input. */
export function upsertParams(workspaceId: WorkspaceId, input: LeadInput, opts: UpsertOptions): unknown[] {
  const touch = cleanUtm({
    utm_source: input.utm_source,
    utm_medium: input.utm_medium,
    utm_campaign: input.utm_campaign,
    utm_term: input.utm_term,
    utm_content: input.utm_content,
  });
  const custom: CustomFields = {};
  for (const [k, v] of Object.entries(input.custom_fields ?? {})) if (!isEmptyValue(v)) custom[k] = v;
  const consent = opts.consentOverride ?? input.consent;
  const consentStatus: ConsentStatus = consent?.status ?? 'none';
  const consentAt =
    consentStatus === 'none' ? null : ((input.consent?.at ? new Date(input.consent.at) : undefined) ?? opts.now ?? new Date());
  return [
    workspaceId,
    uuidv7(),
    input.email,
    emailVariantKey(input.email),
    orNull(input.first_name),
    orNull(input.last_name),
    orNull(input.phone),
    orNull(input.company),
    orNull(input.source),
    (input.tags ?? []).filter((t) => !isEmptyValue(t)),
    JSON.stringify(custom),
    JSON.stringify(touch),
    touch.utm_campaign ?? null,
    suppressionHash(workspaceId, input.email),
    consentStatus,
    consentAt,
    consentStatus === 'none' ? null : (consent?.ip ?? null),
    consentStatus === 'none' ? null : (consent?.wording ?? null),
    uuidv7(),
    uuidv7(),
    opts.via,
    opts.requestId ?? null,
  ];
}

/** Runs the create-or-merge statement (prepared once per connection), retrying the documented race once. */
export async function runUpsert(
  database: Pick<Database, 'pool' | 'embedded'>,
  workspaceId: WorkspaceId,
  input: LeadInput,
  opts: UpsertOptions,
): Promise<UpsertRow> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const { rows } = await database.pool.query<UpsertRow>(
      statement(database, 'leads_upsert_v1', UPSERT_LEAD_SQL, upsertParams(workspaceId, input, opts)),
    );
    if (rows[0]) return rows[0];
  }
  throw new Error('lead upsert returned no row three times');
}
