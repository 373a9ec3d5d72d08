import type { Logger } from 'pino';
import type { Database } from '../db/database';

/** The lines printed when the database has no user yet: how to create the first one. */
export function firstRunHintText(url: string): string {
  return [
    'No users yet. Create the first one (and its workspace) with either:',
    `  curl -X POST ${url}/api/v1/auth/register -H 'content-type: application/json' \\`,
    `       -d '{"email":"you@example.com","password":"a-long-passphrase","name":"You","workspace_name":"My team"}'`,
    `  npx switchboard create-user --email you@example.com --workspace "My team"   (asks for the password)`,
    'Then create an API key: POST /api/v1/api-keys, or npx switchboard api-key create --workspace <id> --scopes leads:read',
  ].join('\n');
}

/**
 * On a fresh data folder (no users), prints how to create the first user. Best effort: a
 * failing query never stops the start.
 */
export async function printFirstRunHint(database: Database, log: Logger, url: string): Promise<boolean> {
  try {
    const { rows } = await database.pool.query<{ any: boolean }>('select exists(select 1 from users) as any');
    if (rows[0]?.any) return false;
    const text = firstRunHintText(url);
    log.info({ first_run: true }, 'no users yet: see the hint on stderr to create the first one');
    // Plain text on stderr: readable for a human, and the JSON log stream on stdout stays clean.
    process.stderr.write(`\n${text}\n\n`);
    return true;
  } catch {
    return false;
  }
}
