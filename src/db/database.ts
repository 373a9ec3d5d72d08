import { backOff } from 'exponential-backoff';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { AppConfig } from '../config/config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import * as schema from './schema';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;

export interface Database {
  pool: pg.Pool;
  db: Db;
  /** Connection settings usable by other clients (BullMQ's Postgres backend, LISTEN clients). */
  connection: pg.PoolConfig;
  embedded?: EmbeddedPostgres;
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Opens the database for the configured mode: PGlite on a local socket (embedded) or
 * `DATABASE_URL`. Retries the first connection with exponential backoff and full jitter,
 * so a start that races Postgres does not fail.
 */
export async function openDatabase(config: AppConfig, log: Log, opts: { poolMax?: number } = {}): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let connection: pg.PoolConfig;
  if (config.DATABASE_URL) {
    connection = {
      connectionString: config.DATABASE_URL,
      // Server-side guard against runaway queries; 0 disables it.
      statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS || undefined,
      keepAlive: true,
    };
  } else {
    embedded = await startEmbeddedPostgres(config.dataDir);
    // PGlite is one session: keep the pool small, queries queue on the socket server anyway.
    connection = { ...embedded.connection };
  }
  const pool = new pg.Pool({
    ...connection,
    max: opts.poolMax ?? (embedded ? Math.min(config.DATABASE_POOL_MAX, 10) : config.DATABASE_POOL_MAX),
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client dropped by a Postgres restart emits here; without a listener the process dies.
  pool.on('error', (err) =>
    log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database connection lost'),
  );

  try {
    await backOff(() => pool.query('select 1'), {
      numOfAttempts: config.DATABASE_CONNECT_RETRIES + 1,
      startingDelay: 250,
      maxDelay: 10_000,
      jitter: 'full',
      retry: (err: Error, attempt: number) => {
        log.warn({ attempt, err: { message: err.message } }, 'database not reachable yet, retrying');
        return true;
      },
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }

  const db = drizzle(pool, { schema, casing: 'snake_case' });
  let closed = false;
  return {
    pool,
    db,
    connection,
    embedded,
    async ping(timeoutMs = 2000) {
      // pool.query releases its client itself, even when our timer wins the race.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          pool.query('select 1'),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('database ping timed out')), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end().catch((err: Error) => log.error({ err: { message: err.message } }, 'closing the pool failed'));
      await embedded?.stop();
    },
  };
}
