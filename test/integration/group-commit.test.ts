import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/db/group-commit';
import { createTestDatabase, postgresAvailable } from '../support/postgres';

/** GroupCommit on the real PostgreSQL: grouping, key separation, and failure isolation. */
describe.runIf(await postgresAvailable())('GroupCommit (postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;

  interface Item {
    key: string;
    value: number;
  }
  /** Inserts the item and reports the transaction it ran in. */
  const insert = async (q: pg.Pool | pg.PoolClient, item: Item) => {
    const { rows } = await q.query<{ tx: string }>(
      `insert into gc_items (key, value) values ($1, $2) returning txid_current()::text as tx`,
      [item.key, item.value],
    );
    return rows[0].tx;
  };
  const rows = async () =>
    (await pool.query<{ key: string; value: number }>(`select key, value from gc_items order by value`)).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // value > 0: a negative value is the "bad item" that fails its transaction.
    await pool.query(`create table gc_items (key text not null, value int not null check (value > 0))`);
  });
  beforeEach(async () => {
    await pool.query('truncate gc_items');
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('runs the first item alone, then groups what queued behind it into one transaction each', async () => {
    const group = new GroupCommit(pool, insert, { maxInFlight: 1, maxBatch: 8, key: (i: Item) => i.key });
    const txs = await Promise.all(Array.from({ length: 17 }, (_, n) => group.submit({ key: `k${n}`, value: n + 1 })));
    expect(await rows()).toHaveLength(17);
    // 1 alone, then 8 + 8 in two transactions.
    expect(new Set(txs).size).toBe(3);
    expect(txs.filter((t) => t === txs[0])).toHaveLength(1);
    expect(group.waiting).toBe(0);
  });

  it('never puts two items with the same key in one transaction', async () => {
    const group = new GroupCommit(pool, insert, { maxInFlight: 1, maxBatch: 8, key: (i: Item) => i.key });
    const txs = await Promise.all([1, 2, 3, 4, 5].map((value) => group.submit({ key: 'same', value })));
    expect(new Set(txs).size).toBe(5);
    // Same-key items keep their submission order.
    expect((await rows()).map((r) => r.value)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a failing item fails alone: its batch is rolled back and the others are written on their own', async () => {
    const group = new GroupCommit(pool, insert, { maxInFlight: 1, maxBatch: 8, key: (i: Item) => i.key });
    const results = await Promise.allSettled([
      group.submit({ key: 'a', value: 1 }),
      group.submit({ key: 'b', value: 2 }),
      group.submit({ key: 'c', value: -3 }),
      group.submit({ key: 'd', value: 4 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((results[2] as PromiseRejectedResult).reason as Error).message).toMatch(/check constraint/);
    expect((await rows()).map((r) => r.value)).toEqual([1, 2, 4]);
  });

  it('with maxBatch 1 every item is its own statement, up to maxInFlight at once', async () => {
    const group = new GroupCommit(pool, insert, { maxInFlight: 2, maxBatch: 1, key: (i: Item) => i.key });
    const txs = await Promise.all(Array.from({ length: 6 }, (_, n) => group.submit({ key: `k${n}`, value: n + 1 })));
    expect(new Set(txs).size).toBe(6);
  });
});
