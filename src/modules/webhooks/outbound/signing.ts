import { randomBytes } from 'node:crypto';
// The Standard Webhooks reference implementation signs; receivers verify with the same package.
import { Webhook } from 'standardwebhooks';

export const ENDPOINT_SECRET_PREFIX = 'whsec_';
/** Standard Webhooks: secrets are 24–64 random bytes; we use 32. */
export const ENDPOINT_SECRET_BYTES = 32;

export function generateEndpointSecret(): string {
  return ENDPOINT_SECRET_PREFIX + randomBytes(ENDPOINT_SECRET_BYTES).toString('base64');
}

export function isEndpointSecret(value: string): boolean {
  if (!value.startsWith(ENDPOINT_SECRET_PREFIX)) return false;
  const raw = Buffer.from(value.slice(ENDPOINT_SECRET_PREFIX.length), 'base64');
  return raw.length >= 24 && raw.length <= 64;
}

const signers = new Map<string, Webhook>();
function signerFor(secret: string): Webhook {
  let s = signers.get(secret);
  if (!s) {
    s = new Webhook(secret);
    if (signers.size > 10_000) signers.clear();
    signers.set(secret, s);
  }
  return s;
}

/**
 * `webhook-signature` for a message: one `v1,<base64>` per active secret, space separated. During a
 * rotation both the new and the old secret sign, so a receiver holding either verifies.
 */
export function signatureHeader(secrets: readonly string[], msgId: string, timestampSeconds: number, body: string): string {
  if (!secrets.length) throw new Error('an endpoint needs at least one signing secret');
  const at = new Date(timestampSeconds * 1000);
  return secrets.map((s) => signerFor(s).sign(msgId, at, body)).join(' ');
}

export const USER_AGENT = 'Switchboard-Webhooks/1.0';

/** The full header set of one delivery attempt. `webhook-id` stays the same across retries. */
export function deliveryHeaders(
  secrets: readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatureHeader(secrets, msgId, timestampSeconds, body),
  };
}
