import { SetMetadata } from '@nestjs/common';

export const IDEMPOTENCY_REDACT_METADATA = 'switchboard:idempotency-redact';

/**
 * Top-level response fields NOT stored for an `Idempotency-Key` replay (secrets shown once, such
 * as a new API key). A replay answers the same status and body without them.
 */
export const IdempotencyRedact = (...fields: string[]) => SetMetadata(IDEMPOTENCY_REDACT_METADATA, fields);
