import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RedisModule } from '../common/redis.module';
import type { AppConfig } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { openDatabase, type Database } from '../db/database';
import { DatabaseModule } from '../db/database.module';
import { runMigrations } from '../db/migrate';
import { ROOT_LOGGER } from '../observability/root-logger';
import { ApiKeysService } from './api-keys/api-keys.service';
import { SCOPES, asWorkspaceId } from './auth-context';
import { AuthModule } from './auth.module';
import { emailSchema, passwordSchema } from './auth.schemas';
import { AuthService } from './auth.service';
import { IdentityRepository } from './identity.repository';

/** The identity services without HTTP, for the headless set-up commands. */
@Module({})
class IdentityCliModule {
  static forRoot(config: AppConfig, database: Database, log: Logger): DynamicModule {
    return {
      module: IdentityCliModule,
      global: true,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(database), RedisModule.forRoot(null), AuthModule],
      providers: [{ provide: ROOT_LOGGER, useValue: log }],
      exports: [ROOT_LOGGER],
    };
  }
}

export class CliInputError extends Error {}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CliInputError(`${what}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}

async function withIdentity<T>(
  config: AppConfig,
  log: Logger,
  fn: (get: <S>(type: new (...args: never[]) => S) => S) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(config, log, { poolMax: 2 });
  try {
    await runMigrations(database.pool);
    const ctx = await NestFactory.createApplicationContext(IdentityCliModule.forRoot(config, database, log), {
      logger: false,
      abortOnError: false,
    });
    try {
      return await fn((type) => ctx.get(type));
    } finally {
      await ctx.close();
    }
  } finally {
    await database.close();
  }
}

export interface CreateUserOptions {
  email: string;
  password: string;
  workspace: string;
  name?: string;
}

/** `switchboard create-user`: a user and their new workspace (as owner). */
export async function createUserCommand(config: AppConfig, log: Logger, opts: CreateUserOptions) {
  const email = parse(emailSchema, opts.email, '--email');
  const password = parse(passwordSchema, opts.password, '--password');
  const workspaceName = parse(z.string().trim().min(1).max(200), opts.workspace, '--workspace');
  const name = parse(z.string().trim().min(1).max(200), opts.name ?? email.split('@')[0], '--name');
  return withIdentity(config, log, async (get) => {
    const session = await get(AuthService).createUserWithWorkspace({ email, password, name, workspaceName });
    return { user: session.user, workspace: session.workspace };
  });
}

export interface CreateKeyOptions {
  workspace: string;
  scopes: string;
  name?: string;
  expiresAt?: string;
  allowedOrigins?: string;
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `switchboard api-key create`: a key for a workspace, printed once. */
export async function createApiKeyCommand(config: AppConfig, log: Logger, opts: CreateKeyOptions) {
  const workspaceId = parse(z.uuid(), opts.workspace, '--workspace (a workspace id)');
  const scopes = parse(z.array(z.enum(SCOPES)).min(1), list(opts.scopes), `--scopes (any of ${SCOPES.join(', ')})`);
  const expiresAt = opts.expiresAt ? parse(z.iso.datetime({ offset: true }), opts.expiresAt, '--expires-at') : undefined;
  return withIdentity(config, log, async (get) => {
    const ws = asWorkspaceId(workspaceId);
    if (!(await get(IdentityRepository).workspaceById(ws))) throw new CliInputError(`no workspace with id ${workspaceId}`);
    return get(ApiKeysService).createForWorkspace(
      ws,
      {
        name: opts.name ?? 'created with the CLI',
        scopes,
        expires_at: expiresAt,
        allowed_origins: list(opts.allowedOrigins),
      },
      null,
    );
  });
}
