import {
  Queue,
  Worker,
  createPostgresBackend,
  quoteSchemaName,
  runMigrations as runBullMigrations,
  type IQueueBackend,
  type Processor,
  type WorkerOptions,
  withBackend,
} from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import type { Database } from '../db/database';
import type { JobEnvelope } from './job-definition';
import { notificationBridgeFor } from './pg-notification-bridge';

/** BullMQ's classes bound to its PostgreSQL backend (typed for a `pg.Pool` connection). */
const PgClasses = withBackend(createPostgresBackend);

export type JobQueue = Queue<JobEnvelope, unknown, string, JobEnvelope, unknown, string, IQueueBackend, unknown>;
export type JobWorker = Worker<JobEnvelope, unknown, string, IQueueBackend>;
export type WorkerSettings = Omit<WorkerOptions, 'connection' | 'prefix'>;

/**
 * The one place that knows which datastore runs the queues. BullMQ on Redis when `REDIS_URL`
 * is set, otherwise BullMQ's own PostgreSQL backend on the app's database (embedded PGlite
 * included). Everything else talks to `Queue`/`Worker` through this.
 */
export interface QueueBackend {
  readonly kind: 'redis' | 'postgres';
  /** Creates the backend's schema (Postgres) and checks it is reachable. Memoised. */
  ready(): Promise<void>;
  /** The producer/admin handle of a queue (one per name, cached). */
  queue(name: string): JobQueue;
  createWorker(name: string, processor: Processor<JobEnvelope>, settings: WorkerSettings): JobWorker;
  close(): Promise<void>;
}

export interface QueueBackendDeps {
  config: Pick<AppConfig, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'JOBS_PG_SCHEMA' | 'JOBS_PG_POOL_MAX'>;
  database: Database;
  log: Logger;
}

export function createQueueBackend(deps: QueueBackendDeps): QueueBackend {
  return deps.config.REDIS_URL ? new RedisBackend(deps, deps.config.REDIS_URL) : new PostgresBackend(deps);
}

/** Logs a connection error at most once per 10 s (an outage must not flood the log). */
function throttledWarn(log: Logger, msg: string): (err: Error) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    log.warn({ err: { message: err.message } }, msg);
  };
}

abstract class BaseBackend implements QueueBackend {
  abstract readonly kind: 'redis' | 'postgres';
  protected readonly queues = new Map<string, JobQueue>();
  private readonly workers = new Set<JobWorker>();
  private readying?: Promise<void>;
  private isReady = false;
  protected readonly warn: (err: Error) => void;

  constructor(protected readonly deps: QueueBackendDeps) {
    this.warn = throttledWarn(deps.log, 'job queue backend unavailable');
  }

  ready(): Promise<void> {
    this.readying ??= this.prepare().then(
      () => {
        this.isReady = true;
      },
      (err: unknown) => {
        this.readying = undefined;
        throw err;
      },
    );
    return this.readying;
  }

  queue(name: string): JobQueue {
    // A queue opened before the schema exists (Postgres) would fail in the background.
    if (!this.isReady) throw new Error('QueueBackend.ready() must resolve before queues are opened');
    let q = this.queues.get(name);
    if (!q) {
      q = this.newQueue(name);
      q.on('error', this.warn);
      this.queues.set(name, q);
    }
    return q;
  }

  createWorker(name: string, processor: Processor<JobEnvelope>, settings: WorkerSettings): JobWorker {
    const worker = this.newWorker(name, processor, settings);
    worker.on('error', this.warn);
    worker.once('closed', () => this.workers.delete(worker));
    this.workers.add(worker);
    return worker;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.workers].map((w) => w.close(true)));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    await this.closeConnections();
  }

  protected abstract prepare(): Promise<void>;
  protected abstract newQueue(name: string): JobQueue;
  protected abstract newWorker(name: string, processor: Processor<JobEnvelope>, settings: WorkerSettings): JobWorker;
  protected abstract closeConnections(): Promise<void>;
}

class RedisBackend extends BaseBackend {
  readonly kind = 'redis' as const;
  private readonly prefix: string;
  /** Producer/admin connection: fails fast while Redis is away, so callers (the relay) retry later. */
  private readonly producer: Redis;
  /** Worker connection: BullMQ duplicates it for each worker's blocking reads; retries forever. */
  private readonly consumer: Redis;

  constructor(deps: QueueBackendDeps, url: string) {
    super(deps);
    this.prefix = `${deps.config.REDIS_KEY_PREFIX}bull`;
    const retryStrategy = (times: number) => Math.min(times * 200, 5000);
    // Connected on first use (ready()), so an API process that never touches a queue opens none.
    // commandTimeout: a Redis that hangs (network partition) fails calls instead of blocking the relay forever.
    this.producer = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: 5000,
      retryStrategy,
    });
    this.consumer = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy });
    this.producer.on('error', this.warn);
    this.consumer.on('error', this.warn);
  }

  /**
   * Starts connecting and waits briefly for Redis. A Redis outage must not stop a start: the
   * clients keep reconnecting, the relay retries, and events wait in Postgres meanwhile.
   */
  protected async prepare(): Promise<void> {
    for (const client of [this.producer, this.consumer]) {
      if (client.status === 'wait') client.connect().catch(() => undefined);
    }
    if (this.producer.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.producer.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, 3000);
      this.producer.once('ready', done);
    });
  }

  protected newQueue(name: string): JobQueue {
    return new Queue(name, { connection: this.producer, prefix: this.prefix }) as unknown as JobQueue;
  }

  protected newWorker(name: string, processor: Processor<JobEnvelope>, settings: WorkerSettings): JobWorker {
    return new Worker<JobEnvelope>(name, processor, {
      ...settings,
      connection: this.consumer,
      prefix: this.prefix,
    });
  }

  protected async closeConnections(): Promise<void> {
    await Promise.allSettled([this.producer.quit(), this.consumer.quit()]);
    this.producer.disconnect();
    this.consumer.disconnect();
  }
}

/**
 * BullMQ's PostgreSQL backend on one pool we own. Its tables live in their own schema
 * (`JOBS_PG_SCHEMA`, default `bullmq`), never beside ours. On a real server every connection of
 * the pool pins `search_path` to that schema. PGlite's socket ignores that startup option and
 * is one session, so there the session's search path becomes `public, <schema>` (our tables
 * first) and start refuses to continue if a name exists in both schemas.
 */
class PostgresBackend extends BaseBackend {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly schema: string;

  constructor(deps: QueueBackendDeps) {
    super(deps);
    const { database, config } = deps;
    this.schema = config.JOBS_PG_SCHEMA;
    const quoted = quoteSchemaName(this.schema);
    this.pool = new pg.Pool({
      ...database.connection,
      // Ignored by PGlite (see above); honoured by every real server.
      options: `-c search_path=${quoted}`,
      keepAlive: true,
      // Each worker keeps one connection for LISTEN; the rest serve queries.
      max: config.JOBS_PG_POOL_MAX,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on('error', this.warn);
    // BullMQ's Postgres connection adds one 'error' listener to a shared pool per Queue and
    // Worker (long-lived, one each per queue), which passes Node's default warning limit of 10.
    this.pool.setMaxListeners(0);
    notificationBridgeFor(database)?.attachPool(this.pool);
  }

  protected async prepare(): Promise<void> {
    const { database } = this.deps;
    const client = await this.pool.connect();
    try {
      await runBullMigrations(client, this.schema);
    } finally {
      client.release();
    }
    if (database.embedded) await this.pinEmbeddedSearchPath();
  }

  private async pinEmbeddedSearchPath(): Promise<void> {
    const { database } = this.deps;
    const { rows } = await database.pool.query<{ name: string }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relname in (
          select c2.relname from pg_class c2 join pg_namespace n2 on n2.oid = c2.relnamespace where n2.nspname = $1)
       union
       select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proname in (
          select p2.proname from pg_proc p2 join pg_namespace n2 on n2.oid = p2.pronamespace where n2.nspname = $1)`,
      [this.schema],
    );
    if (rows.length) {
      throw new Error(
        `the job queue's tables share names with Switchboard's (${rows.map((r) => r.name).join(', ')}); ` +
          `rename ours: in embedded mode both schemas are on one search path`,
      );
    }
    await database.pool.query(`set search_path to public, ${quoteSchemaName(this.schema)}`);
  }

  protected newQueue(name: string): JobQueue {
    return new PgClasses.Queue<JobEnvelope>(name, { connection: this.pool }) as unknown as JobQueue;
  }

  protected newWorker(name: string, processor: Processor<JobEnvelope>, settings: WorkerSettings): JobWorker {
    return new PgClasses.Worker<JobEnvelope>(name, processor, { ...settings, connection: this.pool }) as unknown as JobWorker;
  }

  protected async closeConnections(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
