import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, acquireDataDirLock } from './data-dir-lock';

describe('data folder lock (reliability row 31)', () => {
  it('refuses a second holder while the first is alive, and frees on release', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sblock-'));
    const release = acquireDataDirLock(dir);
    // Another live process holds it: simulate with our parent pid written in the lock file.
    fs.writeFileSync(path.join(dir, 'switchboard.lock'), String(process.ppid));
    expect(() => acquireDataDirLock(dir)).toThrow(DataDirLockedError);
    expect(() => acquireDataDirLock(dir)).toThrow(/already in use by another Switchboard process/);
    fs.writeFileSync(path.join(dir, 'switchboard.lock'), String(process.pid));
    release();
    expect(fs.existsSync(path.join(dir, 'switchboard.lock'))).toBe(false);
  });

  it('takes over a lock left by a crashed process', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sblock-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(path.join(dir, 'switchboard.lock'), dead);
    const release = acquireDataDirLock(dir);
    expect(fs.readFileSync(path.join(dir, 'switchboard.lock'), 'utf8')).toBe(String(process.pid));
    release();
  });
});
