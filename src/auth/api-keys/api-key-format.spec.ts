import { describe, expect, it } from 'vitest';
import { digestsEqual, generateApiKey, hashApiKeySecret, looksLikeApiKey, parseApiKey } from './api-key-format';

describe('API key format', () => {
  it('generates sb_sk_/sb_pk_ keys that parse back to their parts', () => {
    for (const kind of ['secret', 'publishable'] as const) {
      const k = generateApiKey(kind);
      expect(k.key).toMatch(kind === 'secret' ? /^sb_sk_/ : /^sb_pk_/);
      expect(looksLikeApiKey(k.key)).toBe(true);
      expect(parseApiKey(k.key)).toEqual({ kind, keyId: k.keyId, secret: k.secret });
      expect(k.key.startsWith(`${k.prefix}_`)).toBe(true);
    }
  });

  it('refuses anything malformed', () => {
    const k = generateApiKey('secret').key;
    for (const bad of [k.slice(0, -1), `${k}x`, k.replace('sb_sk_', 'sb_xx_'), 'sb_sk_abc_def', '', `${k} `]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it('hashes with the salt (HMAC-SHA256) and compares digests', () => {
    const a = hashApiKeySecret('salt-one-salt-one', 'secret');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKeySecret('salt-two-salt-two', 'secret')).not.toBe(a);
    expect(digestsEqual(a, hashApiKeySecret('salt-one-salt-one', 'secret'))).toBe(true);
    expect(digestsEqual(a, hashApiKeySecret('salt-one-salt-one', 'other'))).toBe(false);
    expect(digestsEqual(a, 'abcd')).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
  });
});
