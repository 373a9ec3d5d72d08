// The official SDK verifies (HMAC-SHA256 over `${t}.${body}` keyed with the whole whsec_ string,
// any of several v1 values, 300 s tolerance); we add the future-timestamp check it lacks.
import Stripe from 'stripe';
import { WebhookVerificationError, checkTimestamp, header, type VerifiedEvent, type Verifier } from './types';

export const STRIPE_TOLERANCE_SECONDS = 300;

export const verifyStripe: Verifier = (req, ctx) => {
  const sig = header(req, 'stripe-signature');
  if (!sig) throw new WebhookVerificationError('missing_header', 'Missing Stripe-Signature header');
  const t = /(?:^|,)\s*t=(\d+)/.exec(sig)?.[1];
  if (!t || !/(?:^|,)\s*v1=/.test(sig))
    throw new WebhookVerificationError('missing_header', 'Stripe-Signature has no t= or v1= part');
  const body = req.rawBody.toString('utf8');
  let event: Stripe.Event | undefined;
  for (const secret of ctx.secrets) {
    try {
      event = Stripe.webhooks.constructEvent(body, sig, secret, STRIPE_TOLERANCE_SECONDS, undefined, ctx.now);
      break;
    } catch (err) {
      if (/tolerance/i.test((err as Error).message)) {
        throw new WebhookVerificationError('stale_timestamp', 'The Stripe signature timestamp is too old');
      }
      if (err instanceof SyntaxError) throw new WebhookVerificationError('malformed_payload', 'The body is not valid JSON');
    }
  }
  if (!event) throw new WebhookVerificationError('bad_signature', 'No Stripe v1 signature matches');
  checkTimestamp(Number(t) * 1000, ctx.now, STRIPE_TOLERANCE_SECONDS * 1000);
  if (typeof event !== 'object' || !event || typeof event.id !== 'string' || typeof event.type !== 'string') {
    throw new WebhookVerificationError('malformed_payload', 'The Stripe event has no id or type');
  }
  const out: VerifiedEvent = {
    eventId: event.id,
    type: event.type,
    payload: event,
    payloadJson: body,
    occurredAt: typeof event.created === 'number' ? new Date(event.created * 1000) : null,
  };
  return [out];
};
