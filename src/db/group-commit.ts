import type pg from 'pg';

/** Runs one unit of work on a connection: the pool (its own transaction) or a transaction's client. */
export type GroupWork<T, R> = (db: pg.Pool | pg.PoolClient, item: T) => Promise<R>;

export interface GroupCommitOptions<T> {
  /** Transactions in flight at once, each on one pooled connection. */
  maxInFlight: number;
  /** Items per transaction; 1 turns grouping off (every item runs alone, as submitted). */
  maxBatch: number;
  /**
   * The row an item writes (e.g. workspace + email). Two items with the same key never share a
   * transaction, and a batch runs in key order, so concurrent batches lock rows in one order.
   */
  key: (item: T) => string;
}

interface Pending<T, R> {
  item: T;
  key: string;
  resolve: (value: R) => void;
  reject: (reason: unknown) => void;
}

/**
 * Group commit for a hot write path. While fewer than `maxInFlight` transactions run, an item
 * runs at once and alone (no added latency when the database keeps up). When they are all busy,
 * items queue, and the next free slot takes up to `maxBatch` of them into ONE transaction: one
 * commit (one WAL flush) and one connection for the lot, instead of one each.
 *
 * Each item still gets its own result. If the grouped transaction fails (one bad item, a
 * deadlock, a dropped connection), it is rolled back and every item of it runs again alone, so
 * one failure never fails its neighbours; the work must therefore be safe to run again after a
 * failed attempt, as a create-or-merge is.
 */
export class GroupCommit<T, R> {
  private readonly queue: Array<Pending<T, R>> = [];
  private inFlight = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly work: GroupWork<T, R>,
    private readonly opts: GroupCommitOptions<T>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, key: this.opts.key(item), resolve, reject });
      this.pump();
    });
  }

  /** Items waiting for a free slot (for tests and metrics). */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** Up to maxBatch queued items with distinct keys, oldest first; the rest keep their places. */
  private takeBatch(): Array<Pending<T, R>> {
    const batch: Array<Pending<T, R>> = [];
    const keys = new Set<string>();
    for (let i = 0; i < this.queue.length && batch.length < this.opts.maxBatch;) {
      const p = this.queue[i];
      if (keys.has(p.key)) {
        i++;
        continue;
      }
      keys.add(p.key);
      batch.push(p);
      this.queue.splice(i, 1);
    }
    return batch;
  }

  private async execute(batch: Array<Pending<T, R>>): Promise<void> {
    if (batch.length === 1) return this.runAlone(batch[0]);
    batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const results = await this.runTogether(batch).catch(() => undefined);
    if (!results) {
      // Rolled back: nothing of the batch was written. Each item runs again on its own.
      await Promise.all(batch.map((p) => this.runAlone(p)));
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]));
  }

  private async runTogether(batch: Array<Pending<T, R>>): Promise<R[]> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const results: R[] = [];
      for (const p of batch) results.push(await this.work(client, p.item));
      await client.query('COMMIT');
      return results;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      // A connection that could not even roll back is destroyed rather than reused.
      client.release(broken);
    }
  }

  private async runAlone(p: Pending<T, R>): Promise<void> {
    try {
      p.resolve(await this.work(this.pool, p.item));
    } catch (err) {
      p.reject(err);
    }
  }
}
