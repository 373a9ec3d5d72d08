import 'reflect-metadata';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CliInputError, createApiKeyCommand, createUserCommand } from './auth/cli';
import { DomainError } from './common/errors/domain-error';
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

/** Reads one line from stdin (for `--password` left out: `echo "$PW" | switchboard create-user …`). */
async function readLine(prompt: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdin.isTTY ? process.stderr : undefined });
  try {
    return (await rl.question(process.stdin.isTTY ? prompt : '')).trim();
  } finally {
    rl.close();
  }
}

/** Runs an identity command with a quiet logger; input errors exit 2 with a one-line message. */
async function identityCommand(run: (config: AppConfig, log: ReturnType<typeof createLogger>) => Promise<void>) {
  const config = configOrExit();
  const log = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  try {
    await run(config, log);
  } catch (err) {
    if (err instanceof CliInputError || err instanceof DomainError) {
      const fields = err instanceof DomainError && err.errors?.length ? ` (${err.errors.map((e) => e.message).join('; ')})` : '';
      process.stderr.write(`switchboard: ${err.message}${fields}\n`);
      process.exit(2);
    }
    fail(err);
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

  program
    .command('create-user')
    .description('create a user and their own new workspace (as owner), for headless set-up')
    .requiredOption('--email <email>', "the user's email (their sign-in)")
    .option('--password <password>', '10-256 characters; read from stdin when left out (keeps it out of shell history)')
    .requiredOption('--workspace <name>', 'name of the workspace to create')
    .option('--name <name>', 'display name (default: the part of the email before @)')
    .action((opts: { email: string; password?: string; workspace: string; name?: string }) =>
      identityCommand(async (config, log) => {
        const password = opts.password ?? (await readLine('Password: '));
        const { user, workspace } = await createUserCommand(config, log, { ...opts, password });
        process.stdout.write(
          `Created user ${user.email} (${user.id})\n` +
            `Created workspace "${workspace.name}" (${workspace.id}); ${user.email} is its owner\n` +
            `Sign in: POST /api/v1/auth/login {"email","password"}\n` +
            `API key: switchboard api-key create --workspace ${workspace.id} --scopes leads:read,leads:write\n`,
        );
      }),
    );

  const apiKey = program.command('api-key').description('manage API keys from the command line');
  apiKey
    .command('create')
    .description('create an API key for a workspace; the key is printed once')
    .requiredOption('--workspace <id>', 'workspace id')
    .requiredOption(
      '--scopes <scopes>',
      'comma-separated scopes, e.g. leads:read,leads:write (leads:capture alone = publishable key)',
    )
    .option('--name <name>', 'a label for the key')
    .option('--expires-at <iso>', 'expiry, ISO 8601 (default: never)')
    .option('--allowed-origins <origins>', 'publishable keys: comma-separated browser origins')
    .action((opts: { workspace: string; scopes: string; name?: string; expiresAt?: string; allowedOrigins?: string }) =>
      identityCommand(async (config, log) => {
        const key = await createApiKeyCommand(config, log, opts);
        process.stderr.write(`Created ${key.kind} key ${key.prefix} (${key.id}) with scopes ${key.scopes.join(', ')}.\n`);
        process.stderr.write('Store it now: it is not shown again.\n');
        process.stdout.write(`${key.key}\n`);
      }),
    );

  return program;
}

if (require.main === module) {
  buildCli().parseAsync(process.argv).catch(fail);
}
