import 'reflect-metadata';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type AppConfig } from './config/config';
import { loadEnvFile } from './config/env-file';
import { DataDirLockedError } from './db/data-dir-lock';
import { openDatabase } from './db/database';
import { runMigrations } from './db/migrate';
import { createLogger } from './observability/logger';
import { ROLES, startRuntime, type Role } from './runtime';

function configOrExit(overrides: Record<string, string> = {}): AppConfig {
  loadEnvFile();
  try {
    return loadConfig({ ...process.env, ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n\nSee .env.example for every variable.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

function fail(err: unknown): never {
  if (err instanceof DataDirLockedError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`switchboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

function parsePort(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return value;
}

async function start(opts: { role: Role; port?: string; host?: string }): Promise<void> {
  const overrides: Record<string, string> = {};
  if (opts.port) overrides.PORT = opts.port;
  if (opts.host) overrides.HOST = opts.host;
  const config = configOrExit(overrides);
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const runtime = await startRuntime(config, log, { role: opts.role }).catch(fail);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight work');
    const force = setTimeout(() => {
      log.error({ grace_ms: config.SHUTDOWN_GRACE_MS }, 'grace period over, exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + 2000);
    force.unref();
    runtime.stop().then(
      () => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function migrate(): Promise<void> {
  const config = configOrExit();
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const database = await openDatabase(config, log, { poolMax: 1 });
  try {
    await runMigrations(database.pool);
    log.info({ mode: config.mode }, 'migrations applied');
  } finally {
    await database.close();
  }
}

export function buildCli(): Command {
  const program = new Command('switchboard')
    .description('Switchboard: a self-hosted marketing backend (leads, sequences, webhooks, analytics)')
    .showHelpAfterError();

  program
    .command('start')
    .description('start the service (embedded PGlite unless DATABASE_URL is set)')
    .addOption(new Option('--role <role>', 'what this process runs').choices(ROLES).default('all'))
    .option('--port <port>', 'HTTP port (overrides PORT)', parsePort)
    .option('--host <host>', 'HTTP bind address (overrides HOST)')
    .action((opts: { role: Role; port?: string; host?: string }) => start(opts));

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(() => migrate().catch(fail));

  return program;
}

if (require.main === module) {
  buildCli().parseAsync(process.argv).catch(fail);
}
