import type { AuthContext } from './auth-context';

/**
 * Whether a browser origin may use this credential. Secret keys and user tokens are not tied to
 * origins (CORS_ORIGINS governs them); a publishable key only works from the origins it lists
 * (`*` = any). Requests without an Origin header (servers, curl) are not browser requests.
 */
export function originAllowed(auth: AuthContext, origin: string | undefined): boolean {
  if (auth.keyKind !== 'publishable' || !origin) return true;
  return auth.allowedOrigins.includes('*') || auth.allowedOrigins.includes(origin);
}
