import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelope for secrets at rest (provider tokens, webhook secrets).
 * Format: `v1.<key id>.<iv b64url>.<tag b64url>.<ciphertext b64url>`. The key id lets a
 * deployment rotate ENCRYPTION_KEY: keep the old key in `previousKeys` until re-encrypted.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(currentKey: string, previousKeys: string[] = []) {
    const current = SecretBox.deriveKey(currentKey);
    this.currentKeyId = SecretBox.keyId(current);
    this.keys.set(this.currentKeyId, current);
    for (const k of previousKeys) {
      const key = SecretBox.deriveKey(k);
      this.keys.set(SecretBox.keyId(key), key);
    }
  }

  /** A 64-char hex key is used as is; anything else is stretched with SHA-256. */
  private static deriveKey(material: string): Buffer {
    return /^[0-9a-fA-F]{64}$/.test(material) ? Buffer.from(material, 'hex') : createHash('sha256').update(material).digest();
  }

  private static keyId(key: Buffer): string {
    return createHash('sha256').update('switchboard-key-id').update(key).digest('base64url').slice(0, 8);
  }

  /** `aad` binds the ciphertext to its row (e.g. the record id) so it cannot be swapped. */
  encrypt(plaintext: string, aad = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', this.currentKeyId, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
  }

  decrypt(envelope: string, aad = ''): string {
    const [version, keyId, iv, tag, ct] = envelope.split('.');
    if (version !== 'v1' || !keyId || !iv || !tag || ct === undefined) throw new Error('Malformed encrypted value');
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`No encryption key with id ${keyId}; was ENCRYPTION_KEY rotated without keeping the old one?`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** True when the value was sealed with an older key and should be re-encrypted. */
  needsRotation(envelope: string): boolean {
    return envelope.split('.')[1] !== this.currentKeyId;
  }
}
