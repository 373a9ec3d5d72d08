import { Inject, Injectable } from '@nestjs/common';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { Role } from './auth-context';

export const JWT_ISSUER = 'switchboard';
export const JWT_AUDIENCE = 'switchboard-api';
/** Pinned: a token naming any other algorithm (`none`, RS256 with a forged key …) is refused. */
export const JWT_ALGORITHM = 'HS256';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export interface AccessClaims {
  userId: string;
  workspaceId: string;
  role: Role;
  /** The session (refresh-token family) the token was issued for: logout revokes it at once. */
  sessionId: string;
}

const claimsSchema = z.object({
  sub: z.uuid(),
  wid: z.uuid(),
  role: z.enum(['owner', 'admin', 'member']),
  sid: z.uuid(),
});

/** Signs and verifies access tokens with jose (JWT, RFC 8725 practices). */
@Injectable()
export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.key = new TextEncoder().encode(config.secrets.JWT_SECRET);
  }

  async sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ wid: claims.workspaceId, role: claims.role, sid: claims.sessionId })
      .setProtectedHeader({ alg: JWT_ALGORITHM, typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
      .sign(this.key);
  }

  /** The claims of a valid token, or undefined for anything else (bad signature, alg, iss, aud, exp …). */
  async verify(token: string): Promise<AccessClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [JWT_ALGORITHM],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: 5,
      });
      const c = claimsSchema.safeParse(payload);
      if (!c.success) return undefined;
      return { userId: c.data.sub, workspaceId: c.data.wid, role: c.data.role, sessionId: c.data.sid };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return undefined;
      throw err;
    }
  }
}
