import { type SecretBox } from '../../../common/crypto/encryption';
import type { Credentials } from '../providers/provider-client';

export interface SealedCredentials {
  ciphertext: string;
  keyId: string;
}

/**
 * Seals provider credentials with AES-256-GCM (SecretBox, ENCRYPTION_KEY), bound to the
 * connection id as associated data so a sealed value cannot be moved to another row. The key id
 * is stored beside it: rows sealed with a previous key are re-sealed on their next use.
 */
export class CredentialsVault {
  constructor(private readonly box: SecretBox) {}

  static aad(connectionId: string): string {
    return `analytics_connection:${connectionId}`;
  }

  seal(connectionId: string, credentials: Credentials): SealedCredentials {
    const clean: Credentials = { access_token: credentials.access_token };
    for (const k of ['refresh_token', 'client_id', 'client_secret', 'expires_at'] as const)
      if (credentials[k]) clean[k] = credentials[k];
    return {
      ciphertext: this.box.encrypt(JSON.stringify(clean), CredentialsVault.aad(connectionId)),
      keyId: this.box.currentKeyId,
    };
  }

  open(connectionId: string, ciphertext: string): Credentials {
    return JSON.parse(this.box.decrypt(ciphertext, CredentialsVault.aad(connectionId))) as Credentials;
  }

  needsRotation(ciphertext: string): boolean {
    return this.box.needsRotation(ciphertext);
  }
}
