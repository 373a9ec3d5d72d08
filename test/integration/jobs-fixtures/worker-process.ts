import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../../src/common/util/package-root';
import type { TestApp } from '../../support/test-app';

const root = packageRoot(__dirname);
const bin = path.join(root, 'bin', 'switchboard.js');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * `switchboard start --role worker` as its own process (the built CLI, like production), on the
 * test app's database, Redis prefix and data folder.
 */
export async function startWorkerProcess(t: TestApp, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const { config } = t;
  const child = spawn(process.execPath, [bin, 'start', '--role', 'worker'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      SWITCHBOARD_DATA_DIR: config.dataDir,
      DATABASE_URL: config.DATABASE_URL ?? '',
      REDIS_URL: config.REDIS_URL ?? '',
      REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
      JOBS_LOCK_DURATION_MS: '1000',
      JOBS_STALLED_INTERVAL_MS: '500',
      JOBS_BACKOFF_DELAY_MS: '50',
      OUTBOX_POLL_INTERVAL_MS: '300',
      OUTBOX_CLAIM_TTL_MS: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForOutput = (re: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m) {
          clearInterval(timer);
          resolve(m);
        }
      };
      const timer = setInterval(check, 25);
      setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`worker output did not match ${re} within ${timeoutMs} ms:\n${out.slice(-4000)}`));
      }, timeoutMs);
      void exited.then((code) => {
        check();
        if (!re.exec(out)) {
          clearInterval(timer);
          reject(new Error(`worker exited (${code}) before printing ${re}:\n${out.slice(-4000)}`));
        }
      });
    });
  const worker: WorkerProcess = { child, output: () => out, exited, waitForOutput };
  await waitForOutput(/job workers started/);
  // The health server starts after the workers: wait for it too, or the first probe races it.
  if (env.WORKER_HEALTH_PORT !== undefined) await waitForOutput(/worker health and metrics listening/);
  return worker;
}
