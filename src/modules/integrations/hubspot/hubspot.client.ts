// Outbound HTTP: undici 7 `request` (timeouts per phase, no global state).
import { request, type Dispatcher } from 'undici';

/** CRM v3 batch endpoints accept at most 100 inputs per call. */
export const HUBSPOT_BATCH_LIMIT = 100;

export interface HubSpotContactUpsert {
  email: string;
  /** HubSpot property values are strings; empty values are never sent (no overwriting with blanks). */
  properties: Record<string, string>;
}

export interface HubSpotUpsertResult {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: string;
  updatedAt?: string;
  new?: boolean;
}

export interface HubSpotBatchResponse {
  status: string;
  results: HubSpotUpsertResult[];
  errors?: Array<{ status?: string; category?: string; message?: string; context?: Record<string, unknown> }>;
  /** HTTP 207: some inputs failed (listed in `errors`). */
  partial: boolean;
}

/** A failed call. `retryable` for 429/5xx/network errors; `retryAfterMs` when HubSpot said how long to wait. */
export class HubSpotError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HubSpotError';
  }
}

export interface HubSpotClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/** Largest HubSpot response body we read (a batch answer for 100 contacts is far smaller). */
const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new HubSpotError('HubSpot response larger than expected', null, true);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The slice of the HubSpot CRM v3 API Switchboard uses: contacts batch upsert by email
 * (`POST /crm/v3/objects/contacts/batch/upsert`, `idProperty: "email"`), with a private-app token.
 */
export class HubSpotClient {
  private readonly baseUrl: string;

  constructor(private readonly opts: HubSpotClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  async batchUpsertContacts(contacts: HubSpotContactUpsert[]): Promise<HubSpotBatchResponse> {
    if (contacts.length === 0) return { status: 'COMPLETE', results: [], partial: false };
    if (contacts.length > HUBSPOT_BATCH_LIMIT) throw new Error(`At most ${HUBSPOT_BATCH_LIMIT} contacts per batch`);
    const body = JSON.stringify({
      inputs: contacts.map((c) => ({ idProperty: 'email', id: c.email, properties: { ...c.properties, email: c.email } })),
    });
    const timeout = this.opts.timeoutMs ?? 15_000;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.baseUrl}/crm/v3/objects/contacts/batch/upsert`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        dispatcher: this.opts.dispatcher,
      });
    } catch (err) {
      throw new HubSpotError(`HubSpot unreachable: ${(err as Error).message}`, null, true);
    }
    const text = await readCapped(res.body);
    const status = res.statusCode;
    if (status === 200 || status === 201 || status === 207) {
      let parsed: Omit<HubSpotBatchResponse, 'partial'>;
      try {
        parsed = JSON.parse(text) as Omit<HubSpotBatchResponse, 'partial'>;
      } catch {
        throw new HubSpotError('HubSpot answered with malformed JSON', status, true);
      }
      return { ...parsed, results: parsed.results ?? [], partial: status === 207 };
    }
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      /* not JSON: keep the raw start */
    }
    const retryable = status === 429 || status >= 500;
    throw new HubSpotError(`HubSpot ${status}: ${message}`, status, retryable, retryAfterMs(res.headers['retry-after']));
  }
}

export interface LeadForCrm {
  email: string;
  first_name?: string | null;
  last_name?: string | null;
  phone?: string | null;
  company?: string | null;
  status?: string | null;
}

/**
 * Switchboard lead → HubSpot contact properties (standard properties only, so any portal accepts
 * them). `lifecyclestage` is only ever moved forward to `customer`: HubSpot refuses moving it back.
 */
export function leadToHubSpotProperties(lead: LeadForCrm): Record<string, string> {
  const props: Record<string, string> = {};
  const put = (key: string, v: string | null | undefined) => {
    if (v !== undefined && v !== null && v.trim() !== '') props[key] = v;
  };
  put('firstname', lead.first_name);
  put('lastname', lead.last_name);
  put('phone', lead.phone);
  put('company', lead.company);
  if (lead.status === 'customer') props.lifecyclestage = 'customer';
  return props;
}
