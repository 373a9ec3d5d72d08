import type { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Database } from '../db/database';

const RELAYED = Symbol('switchboard.relayedNotification');
type Notification = pg.Notification & { [RELAYED]?: true };

/**
 * Embedded mode only. PGlite behind pglite-socket is ONE Postgres session shared by every
 * socket, so a NOTIFY is delivered to whichever connection happens to run the committing
 * statement, not to the connection that ran LISTEN. This bridge restores Postgres semantics
 * inside the process: a notification received by any tracked client is re-emitted on every
 * other tracked client, so BullMQ's LISTEN client (waiting for jobs) and the outbox relay wake
 * at once instead of at their next poll. On a real Postgres server it is not used.
 */
export class PgNotificationBridge {
  private readonly clients = new Set<EventEmitter>();

  /** Tracks every client of the pool: new ones on connect, existing idle ones on checkout. */
  attachPool(pool: pg.Pool): void {
    const add = (client: pg.PoolClient) => this.add(client);
    pool.on('connect', add);
    pool.on('acquire', add);
    pool.on('remove', (client) => this.clients.delete(client));
  }

  add(client: EventEmitter): void {
    if (this.clients.has(client)) return;
    this.clients.add(client);
    client.on('notification', (msg: Notification) => {
      if (msg[RELAYED]) return;
      const copy: Notification = { ...msg, [RELAYED]: true };
      for (const other of this.clients) if (other !== client) other.emit('notification', copy);
    });
    client.once('end', () => this.clients.delete(client));
  }
}

const bridges = new WeakMap<Database, PgNotificationBridge>();

/** The bridge of an embedded database (created on first use, app pool attached), else null. */
export function notificationBridgeFor(database: Database): PgNotificationBridge | null {
  if (!database.embedded) return null;
  let bridge = bridges.get(database);
  if (!bridge) {
    bridge = new PgNotificationBridge();
    bridge.attachPool(database.pool);
    bridges.set(database, bridge);
  }
  return bridge;
}
