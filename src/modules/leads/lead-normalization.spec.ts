import { describe, expect, it } from 'vitest';
import {
  customFieldsProblems,
  emailVariantKey,
  hasForbiddenCharacters,
  mergeLead,
  normalizeEmail,
  normalizePhone,
  InvalidPhoneError,
  MAX_CUSTOM_FIELDS_BYTES,
  type StoredLeadProfile,
} from './lead-normalization';
import { leadInputSchema, leadPatchSchema } from './leads.schemas';

const stored = (over: Partial<StoredLeadProfile> = {}): StoredLeadProfile => ({
  first_name: 'Ann',
  last_name: 'Lee',
  phone: '+14155550123',
  company: 'Acme',
  source: 'website',
  tags: ['a'],
  custom_fields: { plan: 'pro' },
  first_touch: {},
  last_touch: {},
  ...over,
});

describe('email normalisation (reliability row 25)', () => {
  it('trims, applies NFC and lower-cases so " Ann@Example.COM " and "ann@example.com" are one lead', () => {
    expect(normalizeEmail(' Ann@Example.COM ')).toBe('ann@example.com');
    expect(normalizeEmail(' Ann@Example.COM ')).toBe(normalizeEmail('ann@example.com'));
    // "é" as e + combining acute (NFD) and as one code point (NFC) are the same address.
    expect(normalizeEmail('Jose\u0301@example.com')).toBe(normalizeEmail('jos\u00e9@example.com'));
  });

  it('gives Gmail dot and +tag variants the same key, but not the same email', () => {
    expect(emailVariantKey('a.nn+x@gmail.com')).toBe('ann@gmail.com');
    expect(emailVariantKey('ann@googlemail.com')).toBe('ann@gmail.com');
    expect(emailVariantKey('ann@gmail.com')).toBe('ann@gmail.com');
    // Dots matter outside Gmail; +tags are stripped everywhere.
    expect(emailVariantKey('a.nn+news@example.com')).toBe('a.nn@example.com');
    expect(emailVariantKey('+only@example.com')).toBe('+only@example.com');
  });

  it('validates and normalises through the input schema', () => {
    const ok = leadInputSchema.parse({ email: ' Ann@Example.COM ' });
    expect(ok.email).toBe('ann@example.com');
    expect(leadInputSchema.safeParse({ email: 'not-an-email' }).success).toBe(false);
    expect(leadInputSchema.safeParse({ email: `${'a'.repeat(250)}@example.com` }).success).toBe(false);
  });
});

describe('phone numbers', () => {
  it('normalises to E.164', () => {
    expect(normalizePhone('+1 (415) 555-0123')).toBe('+14155550123');
    expect(normalizePhone('+44 20 7946 0958')).toBe('+442079460958');
    expect(normalizePhone('020 7946 0958', 'GB')).toBe('+442079460958');
  });

  it('rejects invalid numbers', () => {
    expect(() => normalizePhone('12345')).toThrow(InvalidPhoneError);
    expect(() => normalizePhone('+1 555')).toThrow(InvalidPhoneError);
    expect(() => normalizePhone('call me')).toThrow(InvalidPhoneError);
    const res = leadInputSchema.safeParse({ email: 'a@b.co', phone: '+1 000' });
    expect(res.success).toBe(false);
    expect(res.error!.issues[0].path).toEqual(['phone']);
  });
});

describe('names (reliability row 26)', () => {
  it.each([
    ['NUL', 'An\u0000n'],
    ['right-to-left override', 'Ann\u202Egpj.exe'],
    ['first strong isolate', '\u2068Ann'],
    ['right-to-left mark', 'Ann\u200F'],
    ['arabic letter mark', 'A\u061Cnn'],
    ['inner newline', 'Ann\nLee'],
  ])('refuses a %s', (_label, value) => {
    expect(hasForbiddenCharacters(value)).toBe(true);
    const res = leadInputSchema.safeParse({ email: 'a@b.co', first_name: value });
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => i.path.join('.'))).toContain('first_name');
  });

  it('accepts real names in any script, NFC-normalised and trimmed', () => {
    const res = leadInputSchema.parse({ email: 'a@b.co', first_name: ' Zoe\u0308 ', last_name: 'محمد', company: '株式会社' });
    expect(res.first_name).toBe('Zoë');
    expect(res.last_name).toBe('محمد');
    expect(hasForbiddenCharacters('Renée O’Brien-Smith')).toBe(false);
  });
});

describe('custom fields', () => {
  it('bounds size, keys and value types', () => {
    expect(customFieldsProblems({ plan: 'pro', seats: 3, trial: true, note: null })).toEqual([]);
    expect(customFieldsProblems({ 'bad key': 1 })).toHaveLength(1);
    expect(customFieldsProblems({ nested: { a: 1 } })).toHaveLength(1);
    const big: Record<string, string> = {};
    for (let i = 0; i < 20; i++) big[`k${i}`] = 'x'.repeat(1000);
    expect(customFieldsProblems(big).join()).toContain(String(MAX_CUSTOM_FIELDS_BYTES));
    expect(leadInputSchema.safeParse({ email: 'a@b.co', custom_fields: big }).success).toBe(false);
  });
});

describe('the merge rule', () => {
  it('never overwrites a value with an empty one', () => {
    const { merged, changed } = mergeLead(stored(), { first_name: '', last_name: null, phone: undefined, company: '  ' });
    expect(merged).toEqual(stored());
    expect(changed).toEqual([]);
  });

  it('takes non-empty new values, keeps the first source, unions tags, merges custom fields per key', () => {
    const { merged, changed } = mergeLead(stored(), {
      first_name: 'Anne',
      source: 'import',
      tags: ['a', 'b'],
      custom_fields: { plan: '', seats: 4 },
    });
    expect(merged.first_name).toBe('Anne');
    expect(merged.source).toBe('website');
    expect(merged.tags).toEqual(['a', 'b']);
    expect(merged.custom_fields).toEqual({ plan: 'pro', seats: 4 });
    expect(changed).toEqual(['first_name', 'tags', 'custom_fields']);
  });

  it('fills an empty source', () => {
    expect(mergeLead(stored({ source: null }), { source: 'import' }).merged.source).toBe('import');
  });

  it('keeps the first touch and moves the last touch', () => {
    const first = mergeLead(stored(), {}, { utm_source: 'google', utm_campaign: 'spring' });
    expect(first.merged.first_touch).toEqual({ utm_source: 'google', utm_campaign: 'spring' });
    expect(first.merged.last_touch).toEqual({ utm_source: 'google', utm_campaign: 'spring' });
    const second = mergeLead(first.merged, {}, { utm_source: 'newsletter', utm_term: '' });
    expect(second.merged.first_touch).toEqual({ utm_source: 'google', utm_campaign: 'spring' });
    expect(second.merged.last_touch).toEqual({ utm_source: 'newsletter' });
    expect(second.changed).toEqual(['last_touch']);
    // A touch without any UTM leaves both alone.
    expect(mergeLead(second.merged, {}, { utm_source: ' ' }).changed).toEqual([]);
  });
});

describe('patch schema', () => {
  it('refuses an empty patch and unknown properties', () => {
    expect(leadPatchSchema.safeParse({}).success).toBe(false);
    const res = leadPatchSchema.safeParse({ first_name: 'A', workspace_id: 'x', email: 'a@b.co' });
    expect(res.success).toBe(false);
  });
});
