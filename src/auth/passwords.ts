import { Algorithm, hash, verify } from '@node-rs/argon2';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * argon2id with OWASP's first recommended profile (m = 19 MiB, t = 2, p = 1), via
 * `@node-rs/argon2` (prebuilt, runs off the event loop on the libuv pool).
 */
export const ARGON2_OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19_456, // KiB
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/** A hash to verify against when the account does not exist, so both cases take as long. */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword('switchboard-timing-equaliser');
  return dummy;
}
