import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';

/**
 * Signed tokens for links in emails: one-click unsubscribe and double-opt-in confirmation.
 *
 * Format: `<payload b64url>.<HMAC-SHA256 b64url>`. The HMAC key is derived with HKDF from
 * ENCRYPTION_KEY (label "switchboard email links v1"), so operators manage no extra secret and
 * the key is never the encryption key itself. Keys derived from ENCRYPTION_PREVIOUS_KEYS still
 * verify, so a key rotation does not break links in emails already sent.
 *
 * Unsubscribe tokens do not expire (RFC 8058 links must keep working in old mail); confirmation
 * tokens do.
 */
export type EmailTokenPurpose = 'unsubscribe' | 'confirm';

export interface EmailTokenPayload {
  purpose: EmailTokenPurpose;
  workspaceId: string;
  leadId: string;
  /** Seconds since epoch after which the token is refused. */
  expiresAt?: number;
}

interface Wire {
  p: 'u' | 'c';
  w: string;
  l: string;
  x?: number;
}

const INFO = 'switchboard email links v1';
export const CONFIRM_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), INFO, 32));
}

export class EmailTokens {
  private readonly keys: Buffer[];

  constructor(secret: string, previousSecrets: readonly string[] = []) {
    this.keys = [secret, ...previousSecrets].map(deriveKey);
  }

  sign(payload: EmailTokenPayload): string {
    const wire: Wire = { p: payload.purpose === 'unsubscribe' ? 'u' : 'c', w: payload.workspaceId, l: payload.leadId };
    if (payload.expiresAt !== undefined) wire.x = payload.expiresAt;
    const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
    return `${body}.${this.mac(this.keys[0], body)}`;
  }

  unsubscribeToken(workspaceId: string, leadId: string): string {
    return this.sign({ purpose: 'unsubscribe', workspaceId, leadId });
  }

  confirmToken(workspaceId: string, leadId: string, now = Date.now()): string {
    return this.sign({ purpose: 'confirm', workspaceId, leadId, expiresAt: Math.floor(now / 1000) + CONFIRM_TOKEN_TTL_SECONDS });
  }

  /** The payload when the token is authentic, of the expected purpose and not expired; else null. */
  verify(token: string, purpose: EmailTokenPurpose, now = Date.now()): EmailTokenPayload | null {
    if (typeof token !== 'string' || token.length > 1024) return null;
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return null;
    const given = Buffer.from(mac, 'base64url');
    const ok = this.keys.some((key) => {
      const expected = Buffer.from(this.mac(key, body), 'base64url');
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!ok) return null;
    let wire: Wire;
    try {
      wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Wire;
    } catch {
      return null;
    }
    const p: EmailTokenPurpose = wire.p === 'u' ? 'unsubscribe' : 'confirm';
    if (p !== purpose || typeof wire.w !== 'string' || typeof wire.l !== 'string') return null;
    if (wire.x !== undefined && wire.x * 1000 < now) return null;
    return { purpose: p, workspaceId: wire.w, leadId: wire.l, expiresAt: wire.x };
  }

  private mac(key: Buffer, body: string): string {
    return createHmac('sha256', key).update(body).digest('base64url');
  }
}

/** The app's token signer (key derived from ENCRYPTION_KEY; older keys still verify) plus link building. */
@Injectable()
export class EmailLinkTokens extends EmailTokens {
  readonly baseUrl: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super(config.secrets.ENCRYPTION_KEY, config.ENCRYPTION_PREVIOUS_KEYS);
    this.baseUrl = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  }

  /** `…/api/v1/unsubscribe?token=…`: the link in the footer and in `List-Unsubscribe`. */
  unsubscribeUrl(workspaceId: string, leadId: string): string {
    return `${this.baseUrl}/api/v1/unsubscribe?token=${this.unsubscribeToken(workspaceId, leadId)}`;
  }

  /** `…/api/v1/capture/confirm?token=…`: the double-opt-in link. */
  confirmUrl(workspaceId: string, leadId: string): string {
    return `${this.baseUrl}/api/v1/capture/confirm?token=${this.confirmToken(workspaceId, leadId)}`;
  }
}
