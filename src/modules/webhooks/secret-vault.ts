import { type SecretBox } from '../../common/crypto/encryption';

/** One signing/verification secret; `expires_at` is set on a secret that was rotated out. */
export interface StoredSecret {
  secret: string;
  created_at: string;
  expires_at: string | null;
}

/** How long a rotated-out secret keeps working (Stripe and Svix both use 24 h). */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;
/** At most this many secrets are kept for one source or endpoint. */
export const MAX_SECRETS = 5;

/**
 * Seals the secret list of a source or endpoint as one AES-256-GCM envelope (SecretBox, keyed by
 * ENCRYPTION_KEY), bound to the row id so a sealed value cannot be moved to another row.
 */
export class WebhookSecretVault {
  /**
   * Opened envelopes by row id + envelope: every delivery signs with its endpoint's secrets, and
   * an AES-GCM open + JSON parse per delivery showed in the profile. A rotation writes a new
   * envelope, so a cached entry never goes stale; the map is bounded.
   */
  private readonly opened = new Map<string, readonly StoredSecret[]>();
  private static readonly MAX_OPENED = 1000;

  constructor(private readonly box: SecretBox) {}

  seal(rowId: string, secrets: readonly StoredSecret[]): string {
    return this.box.encrypt(JSON.stringify(secrets), `webhook-secrets:${rowId}`);
  }

  open(rowId: string, sealed: string): readonly StoredSecret[] {
    const key = `${rowId}:${sealed}`;
    let secrets = this.opened.get(key);
    if (!secrets) {
      secrets = Object.freeze(JSON.parse(this.box.decrypt(sealed, `webhook-secrets:${rowId}`)) as StoredSecret[]);
      if (this.opened.size >= WebhookSecretVault.MAX_OPENED) this.opened.delete(this.opened.keys().next().value!);
      this.opened.set(key, secrets);
    }
    return secrets;
  }

  /** Secrets valid at `now`, newest first. */
  static active(secrets: readonly StoredSecret[], now: number): string[] {
    return secrets.filter((s) => !s.expires_at || Date.parse(s.expires_at) > now).map((s) => s.secret);
  }

  /**
   * A rotation: the new secret first; each older one still active keeps working until at most
   * `now + overlap` (an earlier expiry is kept). Expired ones are dropped; at most MAX_SECRETS.
   */
  static rotate(current: readonly StoredSecret[], next: string, now: number, overlapMs = ROTATION_OVERLAP_MS): StoredSecret[] {
    const cutoff = now + overlapMs;
    const kept = current
      .filter((s) => !s.expires_at || Date.parse(s.expires_at) > now)
      .filter((s) => s.secret !== next)
      .map((s) => ({
        ...s,
        expires_at: new Date(Math.min(s.expires_at ? Date.parse(s.expires_at) : cutoff, cutoff)).toISOString(),
      }));
    return [{ secret: next, created_at: new Date(now).toISOString(), expires_at: null }, ...kept].slice(0, MAX_SECRETS);
  }

  static fresh(secrets: string[], now: number): StoredSecret[] {
    return secrets.slice(0, MAX_SECRETS).map((secret) => ({ secret, created_at: new Date(now).toISOString(), expires_at: null }));
  }
}
