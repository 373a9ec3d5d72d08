import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/common/util/package-root';

const root = packageRoot(__dirname);
const bin = path.join(root, 'bin', 'switchboard.js');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts the built CLI like a user would and waits for the "listening" line. */
function startCli(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--host', '127.0.0.1'], {
    cwd: root,
    env: {
      ...process.env,
      SWITCHBOARD_DATA_DIR: dataDir,
      DATABASE_URL: '',
      REDIS_URL: '',
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start timed out:\n${out}`)), 240_000);
    const onData = () => {
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1].replace(/\s.*$/, ''), output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${out}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, ms: Date.now() - started })));
}

// Each start of the built program initialises PGlite; on a loaded 2-core machine that alone can
// take a minute, so these tests allow generous time (the 10 s SIGTERM bound is still asserted).
describe('switchboard start (embedded, as a user runs it)', { timeout: 600_000 }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbcli-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves ready, docs and the spec; exits 0 on SIGTERM within 10 s; keeps data across restarts', async () => {
    const first = await startCli(dataDir);
    children.push(first.child);
    expect(first.output()).toContain('/docs');
    expect((await fetch(`${first.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${first.url}/docs`)).status).toBe(200);
    expect(((await (await fetch(`${first.url}/api/v1/openapi.json`)).json()) as { openapi: string }).openapi).toBe('3.1.0');

    // Write a marker through the embedded server's local socket.
    const client = new pg.Client({ host: path.join(dataDir, 'run'), port: 5432, user: 'postgres', database: 'postgres' });
    await client.connect();
    await client.query('create table cli_marker (v text)');
    await client.query("insert into cli_marker values ('kept')");
    await client.end();

    // A second process on the same data folder fails clearly (reliability row 31).
    const second = spawn(process.execPath, [bin, 'migrate'], {
      cwd: root,
      env: { ...process.env, SWITCHBOARD_DATA_DIR: dataDir, DATABASE_URL: '' },
    });
    let secondOut = '';
    second.stderr.on('data', (d: Buffer) => (secondOut += d.toString()));
    const secondExit = await exitOf(second);
    expect(secondExit.code).not.toBe(0);
    expect(secondOut).toMatch(/already in use by another Switchboard process/);

    const exiting = exitOf(first.child);
    first.child.kill('SIGTERM');
    const { code, ms } = await exiting;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);

    const again = await startCli(dataDir);
    children.push(again.child);
    const client2 = new pg.Client({ host: path.join(dataDir, 'run'), port: 5432, user: 'postgres', database: 'postgres' });
    await client2.connect();
    expect((await client2.query('select v from cli_marker')).rows).toEqual([{ v: 'kept' }]);
    await client2.end();
    const exiting2 = exitOf(again.child);
    again.child.kill('SIGINT');
    expect((await exiting2).code).toBe(0);
  });

  it('refuses to start with a bad configuration and lists every problem', async () => {
    const child = spawn(process.execPath, [bin, 'start'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: 'nope',
        LOG_LEVEL: 'loud',
        NODE_ENV: 'production',
        JWT_SECRET: 'short',
        SWITCHBOARD_DATA_DIR: dataDir,
      },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const { code } = await exitOf(child);
    expect(code).toBe(78);
    for (const name of ['PORT', 'LOG_LEVEL', 'JWT_SECRET', 'API_KEY_SALT', 'WEBHOOK_SECRET', 'ENCRYPTION_KEY'])
      expect(err).toContain(name);
  });

  it('prints help', async () => {
    const child = spawn(process.execPath, [bin, '--help'], { cwd: root });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect((await exitOf(child)).code).toBe(0);
    expect(out).toContain('start');
    expect(out).toContain('migrate');
  });
});
