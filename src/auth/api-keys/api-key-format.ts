import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type ApiKeyKind = 'secret' | 'publishable';

const PREFIX: Record<ApiKeyKind, string> = { secret: 'sb_sk_', publishable: 'sb_pk_' };
/**
 * `sb_sk_<key id>_<secret>` / `sb_pk_<key id>_<secret>`: the recognisable prefix lets leak
 * scanners find keys; the key id (16 hex chars, public, stored) finds the row; the secret
 * (32 random bytes, base64url) is only ever stored as HMAC-SHA256(API_KEY_SALT, secret).
 */
const KEY_PATTERN = /^sb_(sk|pk)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  kind: ApiKeyKind;
  keyId: string;
  secret: string;
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith('sb_sk_') || credential.startsWith('sb_pk_');
}

export function parseApiKey(credential: string): ParsedApiKey | undefined {
  const m = KEY_PATTERN.exec(credential);
  if (!m) return undefined;
  return { kind: m[1] === 'sk' ? 'secret' : 'publishable', keyId: m[2], secret: m[3] };
}

export function generateApiKey(kind: ApiKeyKind): ParsedApiKey & { key: string; prefix: string } {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const prefix = `${PREFIX[kind]}${keyId}`;
  return { kind, keyId, secret, prefix, key: `${prefix}_${secret}` };
}

export function displayPrefix(kind: ApiKeyKind, keyId: string): string {
  return `${PREFIX[kind]}${keyId}`;
}

export function hashApiKeySecret(salt: string, secret: string): string {
  return createHmac('sha256', salt).update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}
