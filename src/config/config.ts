import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EXAMPLE_SECRET_VALUES, MIN_SECRET_LENGTH, SECRET_NAMES, envSchema, type Env, type SecretName } from './config.schema';

export type Secrets = Record<SecretName, string>;
export type TrustProxy = boolean | number | string[];

export interface AppConfig extends Omit<Env, SecretName | 'TRUST_PROXY'> {
  mode: 'embedded' | 'external';
  isProduction: boolean;
  dataDir: string;
  secrets: Secrets;
  /** Secrets generated into the data folder on this start (warned about once). */
  generatedSecrets: SecretName[];
  trustProxy: TrustProxy;
}

/** Thrown when the environment is invalid; `problems` lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function parseTrustProxy(raw: string): TrustProxy | string {
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0' || v === 'no') return false;
  if (v === 'true' || v === 'yes') return true;
  if (/^\d+$/.test(v)) return Number(v);
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((p) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p));
  return bad.length ? `TRUST_PROXY: not an address or CIDR: ${bad.join(', ')}` : parts;
}

function secretProblem(name: string, value: string | undefined): string | undefined {
  if (!value) return `${name}: required when NODE_ENV=production`;
  if (EXAMPLE_SECRET_VALUES.has(value.toLowerCase()) || /^(x+|0+|change[-_]?me.*)$/i.test(value))
    return `${name}: is an example or placeholder value; generate one with \`openssl rand -hex 32\``;
  if (value.length < MIN_SECRET_LENGTH) return `${name}: must be at least ${MIN_SECRET_LENGTH} characters`;
  return undefined;
}

/** Reads secrets kept in the data folder, generating (and persisting) the missing ones. */
function loadOrGenerateSecrets(dataDir: string, given: Partial<Secrets>): { secrets: Secrets; generated: SecretName[] } {
  const file = path.join(dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  if (fs.existsSync(file)) stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Secrets>;
  const generated: SecretName[] = [];
  const secrets = {} as Secrets;
  for (const name of SECRET_NAMES) {
    const value = given[name] ?? stored[name];
    if (value) {
      secrets[name] = value;
    } else {
      secrets[name] = randomBytes(32).toString('hex');
      stored[name] = secrets[name];
      generated.push(name);
    }
  }
  if (generated.length) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
  }
  return { secrets, generated };
}

/**
 * Validates the environment once into a typed config. Every problem is collected
 * before failing, so an operator fixes them all in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const trust = parseTrustProxy(String(cleaned.TRUST_PROXY ?? 'false'));
  if (typeof trust === 'string') problems.push(trust);

  const isProduction = cleaned.NODE_ENV === 'production';
  if (isProduction) {
    for (const name of SECRET_NAMES) {
      const p = secretProblem(name, cleaned[name]);
      if (p) problems.push(p);
    }
  } else {
    for (const name of SECRET_NAMES) {
      const v = cleaned[name];
      if (v !== undefined && v.length < 16) problems.push(`${name}: must be at least 16 characters`);
    }
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);

  const e = parsed.data;
  const dataDir = path.resolve(e.SWITCHBOARD_DATA_DIR);
  const given: Partial<Secrets> = {};
  for (const name of SECRET_NAMES) if (e[name]) given[name] = e[name];
  const { secrets, generated } = isProduction
    ? { secrets: given as Secrets, generated: [] as SecretName[] }
    : loadOrGenerateSecrets(dataDir, given);

  const { JWT_SECRET: _j, API_KEY_SALT: _a, WEBHOOK_SECRET: _w, ENCRYPTION_KEY: _k, TRUST_PROXY: _t, ...rest } = e;
  return {
    ...rest,
    mode: e.DATABASE_URL ? 'external' : 'embedded',
    isProduction,
    dataDir,
    secrets,
    generatedSecrets: generated,
    trustProxy: trust as TrustProxy,
  };
}
