import type { PGlite } from '@electric-sql/pglite';

/**
 * The message queue in front of PGlite's single session, replacing pglite-socket's own.
 *
 * PGlite is one Postgres session shared by every socket connection. pglite-socket 0.2.17 runs
 * each protocol message as a separate queue item and keeps a connection's turn only while a
 * transaction is open, so outside a transaction another connection's Parse can land between one
 * connection's Parse and its Bind: the second Parse replaces the shared unnamed statement and the
 * first connection binds or executes the wrong one ("bind message supplies 3 parameters, but
 * prepared statement "" requires 7", or silently another query's rows). A failed message also
 * left its queue stuck. See docs/notes-pglite-socket.md.
 *
 * Here a connection owns the session from its first extended-protocol message until its Sync,
 * and for as long as a transaction it opened is open. Other connections' messages wait in
 * arrival order; a connection that goes away gives the session back in a clean state.
 */

const code = (c: string) => c.charCodeAt(0);

/** Messages after which the session holds per-connection state that lasts until a Sync. */
const HOLDS_SESSION = new Set(['P', 'B', 'D', 'E', 'C', 'H', 'F', 'd'].map(code));
/** Sync, as a whole frontend message: ends an extended-protocol sequence and any error skip. */
const SYNC = Uint8Array.from([code('S'), 0, 0, 0, 4]);

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

export class ConnectionPinningQueue {
  private queue: QueuedMessage[] = [];
  private processing = false;
  /** The connection that owns the session, or null when any connection may go next. */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.processQueue();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** Called by a disconnecting handler: its queued messages will never be answered. */
  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((item) => {
      if (item.handlerId !== handlerId) return true;
      item.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /**
   * Called by a disconnecting handler after clearQueueForHandler. If it owned the session, end
   * its half-done message sequence and roll back its transaction before anyone else goes on.
   */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    try {
      await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => undefined }));
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    } finally {
      this.owner = null;
      void this.processQueue();
    }
  }

  private takeNext(): QueuedMessage | undefined {
    if (this.owner === null) return this.queue.shift();
    const index = this.queue.findIndex((item) => item.handlerId === this.owner);
    // The owner has nothing queued yet: everyone else waits for its next message.
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let item = this.takeNext(); item; item = this.takeNext()) {
        await this.run(item);
      }
    } finally {
      this.processing = false;
    }
  }

  private async run(item: QueuedMessage): Promise<void> {
    let bytes = 0;
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(item.message, {
          onRawData: (data) => {
            bytes += data.length;
            item.onData(data);
          },
        }),
      );
      item.resolve(bytes);
    } catch (err) {
      item.reject(err);
    } finally {
      const holds = HOLDS_SESSION.has(item.message[0]) || this.db.isInTransaction();
      this.owner = holds ? item.handlerId : null;
    }
  }
}
