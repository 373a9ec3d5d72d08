import { verifyHmac } from './hmac.verifier';
import { verifyHubspot } from './hubspot.verifier';
import { verifyStandard } from './standard.verifier';
import { verifyStripe } from './stripe.verifier';
import type { InboundRequest, Provider, VerifiedEvent, VerifyContext, Verifier } from './types';
import { verifyZapier } from './zapier.verifier';

export * from './types';

export const VERIFIERS: Record<Provider, Verifier> = {
  stripe: verifyStripe,
  hubspot: verifyHubspot,
  standard: verifyStandard,
  hmac: verifyHmac,
  zapier: verifyZapier,
};

/** Verifies a request for a provider; throws WebhookVerificationError when it must be refused. */
export function verifyInbound(provider: Provider, req: InboundRequest, ctx: VerifyContext): VerifiedEvent[] {
  return VERIFIERS[provider](req, ctx);
}
