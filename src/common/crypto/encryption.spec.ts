import { describe, expect, it } from 'vitest';
import { SecretBox } from './encryption';

const KEY = 'a'.repeat(64);

describe('SecretBox', () => {
  it('round-trips and never stores the plaintext', () => {
    const box = new SecretBox(KEY);
    const sealed = box.encrypt('pat-na1-secret-token', 'row-1');
    expect(sealed).not.toContain('pat-na1');
    expect(box.decrypt(sealed, 'row-1')).toBe('pat-na1-secret-token');
  });

  it('refuses a ciphertext moved to another row or tampered with', () => {
    const box = new SecretBox(KEY);
    const sealed = box.encrypt('x', 'row-1');
    expect(() => box.decrypt(sealed, 'row-2')).toThrow();
    const parts = sealed.split('.');
    parts[4] = Buffer.from('y').toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'row-1')).toThrow();
  });

  it('decrypts values sealed with a previous key after rotation', () => {
    const old = new SecretBox('old-key-material-old-key-material');
    const sealed = old.encrypt('token');
    const rotated = new SecretBox(KEY, ['old-key-material-old-key-material']);
    expect(rotated.needsRotation(sealed)).toBe(true);
    expect(rotated.decrypt(sealed)).toBe('token');
    expect(() => new SecretBox(KEY).decrypt(sealed)).toThrow(/rotated/);
  });
});
