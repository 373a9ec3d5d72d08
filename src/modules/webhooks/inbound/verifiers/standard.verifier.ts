// standardwebhooks (the spec's reference package) computes the signatures; the timestamp window
// is checked here with the injectable clock (same ±5 minutes as the package).
import { Webhook } from 'standardwebhooks';
import { WebhookVerificationError, checkTimestamp, header, parseJsonText, safeEqual, stringField, type Verifier } from './types';

export const STANDARD_TOLERANCE_MS = 5 * 60_000;

export const verifyStandard: Verifier = (req, ctx) => {
  const id = header(req, 'webhook-id');
  const ts = header(req, 'webhook-timestamp');
  const sig = header(req, 'webhook-signature');
  if (!id || !ts || !sig)
    throw new WebhookVerificationError('missing_header', 'Missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^\d+$/.test(ts)) throw new WebhookVerificationError('missing_header', 'webhook-timestamp is not a number');
  checkTimestamp(Number(ts) * 1000, ctx.now, STANDARD_TOLERANCE_MS);
  const body = req.rawBody.toString('utf8');
  const passed = sig
    .split(' ')
    .map((s) => s.split(','))
    .filter(([v, s]) => v === 'v1' && s);
  const at = new Date(Number(ts) * 1000);
  let matched = false;
  for (const secret of ctx.secrets) {
    let expected: string;
    try {
      expected = new Webhook(secret).sign(id, at, body).split(',')[1];
    } catch {
      continue; // a secret that is not valid base64 cannot match
    }
    if (passed.some(([, s]) => safeEqual(s, expected))) {
      matched = true;
      break;
    }
  }
  if (!matched) throw new WebhookVerificationError('bad_signature', 'No webhook-signature v1 value matches');
  const payloadJson = req.rawBody.toString('utf8');
  const payload = parseJsonText(payloadJson);
  return [{ eventId: id, type: stringField(payload, 'type') ?? 'unknown', payload, payloadJson, occurredAt: at }];
};
