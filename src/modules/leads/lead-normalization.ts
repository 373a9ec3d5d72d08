// Phone numbers: libphonenumber-js with its "max" metadata, so validity (not only length) is checked.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export const MAX_EMAIL_LENGTH = 254;
/** JSON size of a lead's custom fields (UTF-8 bytes). */
export const MAX_CUSTOM_FIELDS_BYTES = 16 * 1024;
export const MAX_CUSTOM_FIELDS_KEYS = 100;
export const MAX_CUSTOM_STRING_LENGTH = 2000;
export const CUSTOM_FIELD_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** `" Ann@Example.COM "` → `"ann@example.com"`: trimmed, Unicode NFC, lower-cased. */
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * The key under which address variants collide: `+tag` removed for every domain and, for Gmail
 * (gmail.com / googlemail.com), dots removed and the domain unified. Two leads with the same key
 * but different emails are flagged as possible duplicates, never merged: a `+tag` can be a real,
 * separate mailbox at some providers, and merging would mail the wrong person.
 */
export function emailVariantKey(normalizedEmail: string): string {
  const at = normalizedEmail.lastIndexOf('@');
  if (at <= 0) return normalizedEmail;
  let local = normalizedEmail.slice(0, at);
  let domain = normalizedEmail.slice(at + 1);
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (GMAIL_DOMAINS.has(domain)) {
    local = local.replaceAll('.', '');
    domain = 'gmail.com';
  }
  return `${local}@${domain}`;
}

/**
 * Control characters (NUL, CR/LF, tabs: the whole Unicode Cc category) and the bidirectional
 * formatting characters used for "Trojan Source"-style spoofing (U+061C, U+200E/F, U+202A–E,
 * U+2066–9). A name containing any of them is refused rather than silently cleaned.
 */
const FORBIDDEN_IN_TEXT = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

export function hasForbiddenCharacters(value: string): boolean {
  return FORBIDDEN_IN_TEXT.test(value);
}

export class InvalidPhoneError extends Error {}

/**
 * Any human way of writing a phone number → E.164 (`+14155550123`). Numbers without a `+`
 * country prefix need `defaultCountry`. Throws InvalidPhoneError when the number cannot be a
 * real number of its country.
 */
export function normalizePhone(raw: string, defaultCountry?: CountryCode): string {
  const text = raw.trim();
  if (!text) throw new InvalidPhoneError('The phone number is empty');
  const parsed = parsePhoneNumberFromString(text, defaultCountry ? { defaultCountry } : undefined);
  if (!parsed) {
    throw new InvalidPhoneError(
      text.startsWith('+') || defaultCountry
        ? 'Not a phone number'
        : 'Not a phone number; write it in international form with a leading + and the country code',
    );
  }
  if (!parsed.isValid()) throw new InvalidPhoneError(`Not a valid phone number for country ${parsed.country ?? '(unknown)'}`);
  return parsed.number;
}

export type CustomFieldValue = string | number | boolean | null;
export type CustomFields = Record<string, CustomFieldValue>;

/** Returns the problems of a custom-fields object (empty when it is acceptable). */
export function customFieldsProblems(fields: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const keys = Object.keys(fields);
  if (keys.length > MAX_CUSTOM_FIELDS_KEYS) problems.push(`at most ${MAX_CUSTOM_FIELDS_KEYS} custom fields`);
  for (const key of keys) {
    if (!CUSTOM_FIELD_KEY.test(key)) problems.push(`invalid key "${key.slice(0, 70)}" (letters, digits, _; max 64)`);
    const v = fields[key];
    if (typeof v === 'string') {
      if (v.length > MAX_CUSTOM_STRING_LENGTH) problems.push(`"${key}" is longer than ${MAX_CUSTOM_STRING_LENGTH} characters`);
      if (v.includes('\u0000')) problems.push(`"${key}" contains a NUL character`);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) problems.push(`"${key}" is not a finite number`);
    } else if (v !== null && typeof v !== 'boolean') {
      problems.push(`"${key}" must be a string, number, boolean or null`);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(fields), 'utf8');
  if (bytes > MAX_CUSTOM_FIELDS_BYTES) problems.push(`custom fields are ${bytes} bytes; the limit is ${MAX_CUSTOM_FIELDS_BYTES}`);
  return problems;
}

export const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;
export type UtmKey = (typeof UTM_KEYS)[number];
export type Utm = Partial<Record<UtmKey, string>>;

/** The fields a capture, an API call, an import or a provider payload can bring. */
export interface LeadProfile {
  first_name?: string | null;
  last_name?: string | null;
  phone?: string | null;
  company?: string | null;
  source?: string | null;
  tags?: string[];
  custom_fields?: CustomFields;
}

export interface StoredLeadProfile {
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  company: string | null;
  source: string | null;
  tags: string[];
  custom_fields: CustomFields;
  first_touch: Utm;
  last_touch: Utm;
}

export const isEmptyValue = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** A UTM set counts as a "touch" when at least one parameter is present. */
export function cleanUtm(utm: Utm | undefined): Utm {
  const out: Utm = {};
  for (const k of UTM_KEYS) {
    const v = utm?.[k];
    if (!isEmptyValue(v)) out[k] = v!.trim();
  }
  return out;
}

export function utmEqual(a: Utm, b: Utm): boolean {
  return UTM_KEYS.every((k) => (a[k] ?? null) === (b[k] ?? null));
}

export interface MergeResult {
  merged: StoredLeadProfile;
  /** Fields whose stored value changed, for the `merged` activity entry. */
  changed: string[];
}

/**
 * The merge rule for create-or-merge (one place, mirrored by the SQL upsert and checked against
 * it in the integration tests):
 * - a value is never overwritten with an empty one (undefined, null or blank);
 * - a non-empty incoming name/phone/company replaces the stored one (the newest form wins);
 * - `source` keeps the first non-empty value (where the person first came from);
 * - tags are a union (stored order first); custom fields merge per key, empty values ignored;
 * - UTM: first-touch is set once (the first touch that carried any UTM) and never changed,
 *   last-touch is replaced by every touch that carries any UTM.
 */
export function mergeLead(stored: StoredLeadProfile, incoming: LeadProfile, utm?: Utm): MergeResult {
  const merged: StoredLeadProfile = {
    ...stored,
    tags: [...stored.tags],
    custom_fields: { ...stored.custom_fields },
  };
  const changed: string[] = [];
  for (const key of ['first_name', 'last_name', 'phone', 'company'] as const) {
    const v = incoming[key];
    if (!isEmptyValue(v) && v !== stored[key]) {
      merged[key] = v!;
      changed.push(key);
    }
  }
  if (isEmptyValue(stored.source) && !isEmptyValue(incoming.source)) {
    merged.source = incoming.source!;
    changed.push('source');
  }
  const newTags = (incoming.tags ?? []).filter((t) => !isEmptyValue(t) && !merged.tags.includes(t));
  if (newTags.length) {
    merged.tags.push(...newTags);
    changed.push('tags');
  }
  let customChanged = false;
  for (const [k, v] of Object.entries(incoming.custom_fields ?? {})) {
    if (isEmptyValue(v) || merged.custom_fields[k] === v) continue;
    merged.custom_fields[k] = v;
    customChanged = true;
  }
  if (customChanged) changed.push('custom_fields');
  const touch = cleanUtm(utm);
  if (Object.keys(touch).length) {
    if (!Object.keys(stored.first_touch).length) {
      merged.first_touch = touch;
      changed.push('first_touch');
    }
    if (!utmEqual(touch, stored.last_touch)) {
      merged.last_touch = touch;
      changed.push('last_touch');
    }
  }
  return { merged, changed };
}
