/** Injection tokens of the webhooks module. */
export const WEBHOOK_VAULT = Symbol('WEBHOOK_VAULT');
/** The clock every webhook rule reads (tests inject a controllable one). */
export const WEBHOOK_CLOCK = Symbol('WEBHOOK_CLOCK');
/** The guarded undici Agent all outbound webhook traffic goes through. */
export const OUTBOUND_DISPATCHER = Symbol('OUTBOUND_DISPATCHER');
export const OUTBOUND_POLICY = Symbol('OUTBOUND_POLICY');
export const ENDPOINT_RATE_LIMITER = Symbol('ENDPOINT_RATE_LIMITER');

export interface WebhookClock {
  now(): number;
}
