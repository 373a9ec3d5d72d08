import { WebhookVerificationError, header, parseJsonOrForm, safeEqual, sha256Hex, stringField, type Verifier } from './types';

export const DEFAULT_ZAPIER_KEY_HEADER = 'x-webhook-key';

/**
 * Zapier signs nothing: its "Webhooks by Zapier" POST carries the source's key in a header the
 * user adds to the Zap (`X-Webhook-Key: <secret>` by default). A wrong key is a 401.
 * JSON or form-encoded bodies (Zapier's default payload type) are accepted.
 * Event id: the `Idempotency-Key` header, else the payload's `id`, else the body's SHA-256 (so a
 * Zap that re-posts the same record is a duplicate).
 */
export const verifyZapier: Verifier = (req, ctx) => {
  const name = ctx.settings.apiKeyHeader ?? DEFAULT_ZAPIER_KEY_HEADER;
  const key = header(req, name);
  if (!key) throw new WebhookVerificationError('bad_api_key', `Missing ${name} header`);
  if (!ctx.secrets.some((s) => safeEqual(s, key))) throw new WebhookVerificationError('bad_api_key', 'The API key is not valid');
  const payload = parseJsonOrForm(req.rawBody, req.contentType);
  const idem = header(req, 'idempotency-key');
  const eventId =
    (idem && idem.length <= 255 ? idem : undefined) ?? stringField(payload, 'id') ?? `sha256:${sha256Hex(req.rawBody)}`;
  const type = stringField(payload, 'type') ?? stringField(payload, 'event') ?? 'zapier.post';
  return [{ eventId, type, payload, occurredAt: null }];
};
