import { createHmac } from 'node:crypto';
import { WebhookVerificationError, header, parseJson, safeEqual, sha256Hex, stringField, type Verifier } from './types';

/**
 * Generic HMAC of the raw body: header, algorithm (sha1|sha256|sha512) and encoding (hex|base64)
 * come from the source's settings, with an optional prefix such as `sha256=`. No timestamp is
 * signed in this scheme, so replays are caught by the inbox's unique event id only.
 */
export const verifyHmac: Verifier = (req, ctx) => {
  const s = ctx.settings.hmac;
  if (!s) throw new WebhookVerificationError('bad_signature', 'The source has no HMAC settings');
  let value = header(req, s.header);
  if (!value) throw new WebhookVerificationError('missing_header', `Missing ${s.header} header`);
  value = value.trim();
  if (s.prefix) {
    if (!value.startsWith(s.prefix))
      throw new WebhookVerificationError('bad_signature', `The signature does not start with ${s.prefix}`);
    value = value.slice(s.prefix.length);
  }
  const given = s.encoding === 'hex' ? value.toLowerCase() : value;
  const ok = ctx.secrets.some((secret) =>
    safeEqual(createHmac(s.algorithm, secret).update(req.rawBody).digest(s.encoding), given),
  );
  if (!ok) throw new WebhookVerificationError('bad_signature', 'The HMAC signature does not match');
  const payload = parseJson(req.rawBody);
  const eventId =
    (s.eventIdHeader && header(req, s.eventIdHeader)) || stringField(payload, 'id') || `sha256:${sha256Hex(req.rawBody)}`;
  const type = stringField(payload, 'type') ?? stringField(payload, 'event') ?? 'unknown';
  return [{ eventId, type, payload, occurredAt: null }];
};
