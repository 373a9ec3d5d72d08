import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

export const ACCESS_METADATA = 'switchboard:access';

export type AccessRule = { kind: 'public' } | { kind: 'scopes'; scopes: string[] };

/** Explicit opt-out of authentication. Every route declares `@Public()` or `@Access(...)`. */
export const Public = () => SetMetadata(ACCESS_METADATA, { kind: 'public' } satisfies AccessRule);

/**
 * The route needs an authenticated caller holding every listed scope (from its role or API key).
 * With no scopes, any authenticated caller is allowed.
 */
export const Access = (...scopes: string[]) =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'scopes', scopes } satisfies AccessRule),
    ApiSecurity('bearer'),
    ApiSecurity('api_key'),
  );
