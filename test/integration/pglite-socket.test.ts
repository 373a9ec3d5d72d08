import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, serialize } from 'pg-protocol';
import type { BackendMessage, DataRowMessage, DatabaseError } from 'pg-protocol/dist/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres';

// Embedded mode serves one PGlite session to many connections. These tests drive the wire
// protocol by hand so that one connection's Parse and Bind arrive with a pause between them,
// which is what a busy process does, and check that no other connection gets in between.

interface RawConnection {
  socket: net.Socket;
  messages: BackendMessage[];
  send(...buffers: Buffer[]): void;
  /** Resolves with the messages received up to the next ReadyForQuery. */
  untilReady(): Promise<BackendMessage[]>;
}

async function connect(embedded: EmbeddedPostgres): Promise<RawConnection> {
  const { host, port } = embedded.connection;
  const socket = host.startsWith('/') ? net.connect(path.join(host, `.s.PGSQL.${port}`)) : net.connect(port, host);
  const messages: BackendMessage[] = [];
  let waiter: { from: number; resolve: (m: BackendMessage[]) => void } | undefined;
  void parse(socket, (msg) => {
    messages.push(msg);
    if (msg.name === 'readyForQuery' && waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve(messages.slice(w.from));
    }
  });
  const conn: RawConnection = {
    socket,
    messages,
    send: (...buffers) => void socket.write(Buffer.concat(buffers)),
    untilReady: () => new Promise((resolve) => (waiter = { from: messages.length, resolve })),
  };
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const ready = conn.untilReady();
  conn.send(serialize.startup({ user: embedded.connection.user, database: embedded.connection.database }));
  await ready;
  return conn;
}

const errorsIn = (msgs: BackendMessage[]) => msgs.filter((m) => m.name === 'error').map((m) => (m as DatabaseError).message);
const rowsIn = (msgs: BackendMessage[]) =>
  msgs.filter((m): m is DataRowMessage => m.name === 'dataRow').map((m) => m.fields.map(String));

describe('embedded Postgres socket: one session shared by many connections', () => {
  let dir: string;
  let embedded: EmbeddedPostgres;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-pglite-socket-'));
    embedded = await startEmbeddedPostgres(dir);
  });
  afterAll(async () => {
    await embedded.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps another connection's Parse out of a Parse … Sync sequence", async () => {
    const a = await connect(embedded);
    const b = await connect(embedded);
    try {
      a.send(serialize.parse({ text: 'select $1::int as one' }));
      await sleep(50);
      b.send(serialize.parse({ text: 'select $1::int + $2::int + $3::int as three' }));
      await sleep(50);
      const aDone = a.untilReady();
      a.send(serialize.bind({ values: ['41'] }), serialize.execute(), serialize.sync());
      const aMessages = await aDone;
      expect(errorsIn(aMessages)).toEqual([]);
      expect(rowsIn(aMessages)).toEqual([['41']]);

      const bDone = b.untilReady();
      b.send(serialize.bind({ values: ['1', '2', '3'] }), serialize.execute(), serialize.sync());
      const bMessages = await bDone;
      expect(errorsIn(bMessages)).toEqual([]);
      expect(rowsIn(bMessages)).toEqual([['6']]);
    } finally {
      a.socket.destroy();
      b.socket.destroy();
    }
  });

  it('gives the session back when a connection dies mid-sequence or inside a transaction', async () => {
    const broken = await connect(embedded);
    broken.send(serialize.parse({ text: 'selec 1' })); // an error: the session skips to the next Sync
    await sleep(50);
    broken.socket.destroy();

    const inTx = await connect(embedded);
    const began = inTx.untilReady();
    inTx.send(serialize.query('begin; create table left_open (id int)'));
    expect(errorsIn(await began)).toEqual([]);
    inTx.socket.destroy();

    const other = await connect(embedded);
    try {
      const done = other.untilReady();
      other.send(serialize.query("select 1, to_regclass('left_open') is null"));
      const msgs = await done;
      expect(errorsIn(msgs)).toEqual([]);
      expect(rowsIn(msgs)).toEqual([['1', 't']]); // the open transaction was rolled back
    } finally {
      other.socket.destroy();
    }
  }, 15_000);
});
