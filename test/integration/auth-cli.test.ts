import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/common/util/package-root';

const root = packageRoot(__dirname);
const bin = path.join(root, 'bin', 'switchboard.js');

function envFor(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SWITCHBOARD_DATA_DIR: dataDir,
    DATABASE_URL: '',
    REDIS_URL: '',
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
  };
}

/** Runs a one-shot CLI command (the built program, as a user would). */
function cli(dataDir: string, args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: envFor(dataDir),
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function start(dataDir: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--host', '127.0.0.1'], {
    cwd: root,
    env: envFor(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => (out += d.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start timed out:\n${out}`)), 180_000);
    const check = () => {
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${out}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

// Each step boots the built program (PGlite, migrations, Nest): give a loaded CI machine room.
const SLOW = 300_000;

describe('identity CLI and first-run hint (embedded, built program)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbauthcli-'));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) await stop(c);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints how to create the first user on an empty data folder', { timeout: SLOW }, async () => {
    const s = await start(dataDir);
    children.push(s.child);
    try {
      // The first-run check runs right after the listening line.
      for (let i = 0; i < 300 && !s.output().includes('No users yet'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(s.output()).toContain('No users yet');
      expect(s.output()).toContain('switchboard create-user');
      expect(s.output()).toContain('/api/v1/auth/register');
    } finally {
      await stop(s.child);
    }
  });

  it('create-user, api-key create, then the key and the password work against the server', { timeout: SLOW }, async () => {
    const bad = cli(dataDir, ['create-user', '--email', 'ops@example.com', '--password', 'short', '--workspace', 'Ops']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--password');

    // Password from stdin (kept out of shell history).
    const made = cli(dataDir, ['create-user', '--email', 'Ops@Example.com', '--workspace', 'Ops team'], 'a-long-cli-password\n');
    expect(made.code, made.stderr).toBe(0);
    const workspaceId = /Created workspace "Ops team" \(([0-9a-f-]{36})\)/.exec(made.stdout)?.[1];
    expect(workspaceId).toBeDefined();

    const dup = cli(dataDir, ['create-user', '--email', 'ops@example.com', '--password', 'another-long-one', '--workspace', 'X']);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists/);

    const badScope = cli(dataDir, ['api-key', 'create', '--workspace', workspaceId!, '--scopes', 'leads:read,root']);
    expect(badScope.code).toBe(2);
    const keyRun = cli(dataDir, [
      'api-key',
      'create',
      '--workspace',
      workspaceId!,
      '--scopes',
      'leads:read,keys:manage',
      '--name',
      'ci',
    ]);
    expect(keyRun.code, keyRun.stderr).toBe(0);
    const key = keyRun.stdout.trim();
    expect(key).toMatch(/^sb_sk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(keyRun.stderr).toContain('not shown again');

    const s = await start(dataDir);
    children.push(s.child);
    try {
      const me = await fetch(`${s.url}/api/v1/auth/me`, { headers: { 'x-api-key': key } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ kind: 'api_key', workspace: { id: workspaceId, name: 'Ops team' } });
      const login = await fetch(`${s.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ops@example.com', password: 'a-long-cli-password' }),
      });
      expect(login.status).toBe(200);
      // Users exist now: no first-run hint on this start.
      expect(s.output()).not.toContain('No users yet');
    } finally {
      await stop(s.child);
    }
  });
});
