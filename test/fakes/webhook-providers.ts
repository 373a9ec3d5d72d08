/**
 * Fakes of what Stripe, HubSpot, Zapier and Standard Webhooks senders put on the wire
 * (formats from shared/reference/providers.md). Signing uses the official packages wherever
 * one exists: `stripe.webhooks.generateTestHeaderString`, `@hubspot/api-client`'s `Signature`,
 * `standardwebhooks`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Signature } from '@hubspot/api-client';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';

// ---- Stripe -----------------------------------------------------------------------------
export function stripeEvent(type: string, object: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    api_version: '2025-10-29.clover',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: `req_${randomBytes(6).toString('hex')}`, idempotency_key: null },
    type,
    data: { object },
    ...overrides,
  };
}

export function checkoutSessionCompleted(email: string, amountTotal = 4900, currency = 'usd') {
  return stripeEvent('checkout.session.completed', {
    id: `cs_test_${randomBytes(8).toString('hex')}`,
    object: 'checkout.session',
    amount_total: amountTotal,
    currency,
    customer: `cus_${randomBytes(6).toString('hex')}`,
    customer_details: { email, name: 'Ann Example' },
    customer_email: email,
    payment_status: 'paid',
    status: 'complete',
  });
}

/** A `Stripe-Signature` header from the official SDK; `timestamp` in unix seconds. */
export function signStripe(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp !== undefined ? { timestamp } : {}) });
}

/** A header carrying several v1 signatures, as during a Stripe secret roll. */
export function signStripeRolled(payload: string, secrets: string[], timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = secrets.map((s) => `v1=${createHmac('sha256', s).update(`${timestamp}.${payload}`).digest('hex')}`);
  return [`t=${timestamp}`, ...v1].join(',');
}

// ---- HubSpot ----------------------------------------------------------------------------
export function hubspotContactCreation(objectId: number, overrides: Record<string, unknown> = {}) {
  return {
    eventId: Math.floor(Math.random() * 1e9),
    subscriptionId: 1234,
    portalId: 62515,
    appId: 54321,
    occurredAt: Date.now(),
    subscriptionType: 'contact.creation',
    attemptNumber: 0,
    objectId,
    changeSource: 'CRM',
    changeFlag: 'NEW',
    ...overrides,
  };
}

export function hubspotPropertyChange(objectId: number, propertyName: string, propertyValue: string) {
  return hubspotContactCreation(objectId, {
    subscriptionType: 'contact.propertyChange',
    changeFlag: undefined,
    propertyName,
    propertyValue,
  });
}

/** v3 headers: base64 HMAC-SHA256 of method + uri + body + timestamp (ms), via the SDK's formula. */
export function hubspotV3Headers(o: { secret: string; method?: string; uri: string; body: string; timestampMs?: number }) {
  const timestamp = o.timestampMs ?? Date.now();
  const signature = Signature.getSignature(o.method ?? 'POST', 'v3', {
    signature: '',
    clientSecret: o.secret,
    requestBody: o.body,
    url: o.uri,
    timestamp,
  });
  return { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) };
}

export function hubspotLegacyHeaders(o: { secret: string; version: 'v1' | 'v2'; method?: string; uri: string; body: string }) {
  const signature = Signature.getSignature(o.method ?? 'POST', o.version, {
    signature: '',
    clientSecret: o.secret,
    requestBody: o.body,
    url: o.uri,
  });
  return { 'x-hubspot-signature': signature, 'x-hubspot-signature-version': o.version };
}

// ---- Standard Webhooks and generic HMAC ----------------------------------------------------
export function standardHeaders(secret: string, body: string, o: { id?: string; timestamp?: Date } = {}) {
  const id = o.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const at = o.timestamp ?? new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

export function hmacSignature(secret: string, body: string, algorithm = 'sha256', encoding: 'hex' | 'base64' = 'hex'): string {
  return createHmac(algorithm, secret).update(body).digest(encoding);
}
