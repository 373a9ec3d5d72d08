import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { acquireDataDirLock } from './data-dir-lock';
import { ConnectionPinningQueue } from './pglite-connection-queue';

export interface EmbeddedPostgres {
  /** node-postgres connection settings for the local socket. */
  connection: { host: string; port: number; user: string; database: string };
  stop(): Promise<void>;
}

// Unix socket paths are limited to ~107 bytes; fall back to loopback TCP beyond that.
const MAX_SOCKET_PATH = 100;
const SOCKET_PORT = 5432;

/**
 * Runs PGlite (Postgres in WASM) on the data folder and serves it on a local socket, so the
 * whole app (and BullMQ) talks plain `pg` in both modes. Takes the data-folder lock first.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 50): Promise<EmbeddedPostgres> {
  const release = acquireDataDirLock(dataDir);
  try {
    const pgDir = path.join(dataDir, 'pglite');
    fs.mkdirSync(pgDir, { recursive: true, mode: 0o700 });
    const db = await PGlite.create(pgDir);
    const socketDir = path.join(dataDir, 'run');
    const socketPath = path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
    let server: PGLiteSocketServer;
    let connection: EmbeddedPostgres['connection'];
    if (socketPath.length <= MAX_SOCKET_PATH) {
      fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
      fs.rmSync(socketPath, { force: true });
      server = withConnectionPinning(new PGLiteSocketServer({ db, path: socketPath, maxConnections }), db);
      await server.start();
      connection = { host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' };
    } else {
      server = withConnectionPinning(new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections }), db);
      await server.start();
      const port = Number(server.getServerConn().split(':').pop());
      connection = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' };
    }
    return {
      connection,
      async stop() {
        try {
          await server.stop();
          await db.close();
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Swaps pglite-socket's message queue for ours before the server accepts connections (each
 * connection takes the server's queue when it arrives). The queue is internal to pglite-socket,
 * so the version is pinned in package.json and a changed shape stops the start here.
 */
export function withConnectionPinning(server: PGLiteSocketServer, db: PGlite): PGLiteSocketServer {
  const internals = server as unknown as { queryQueue?: object };
  if (typeof (internals.queryQueue as { enqueue?: unknown } | undefined)?.enqueue !== 'function') {
    throw new Error('@electric-sql/pglite-socket changed its internals: re-check src/db/pglite-connection-queue.ts');
  }
  internals.queryQueue = new ConnectionPinningQueue(db);
  return server;
}
