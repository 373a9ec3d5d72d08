import type { QueryConfig } from 'pg';
import type { Database } from './database';

/**
 * A hot-path query for the `pg` pool: a named prepared statement (parsed and planned once per
 * connection) on a real PostgreSQL, unnamed on embedded PGlite, where pglite-socket serves every
 * connection from one session and a second connection's PREPARE of the same name would fail.
 */
export function statement(database: Pick<Database, 'embedded'>, name: string, text: string, values: unknown[]): QueryConfig {
  return { name: database.embedded ? undefined : name, text, values };
}
