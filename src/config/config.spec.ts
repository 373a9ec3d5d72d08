import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';
import { envSchema } from './config.schema';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sbcfg-'));
const strong = (c: string) => c.repeat(40);

describe('loadConfig', () => {
  it('starts with no configuration in embedded mode and generates secrets once', () => {
    const dir = tmp();
    const first = loadConfig({ SWITCHBOARD_DATA_DIR: dir });
    expect(first.mode).toBe('embedded');
    expect(first.generatedSecrets).toEqual(['JWT_SECRET', 'API_KEY_SALT', 'WEBHOOK_SECRET', 'ENCRYPTION_KEY']);
    expect(first.secrets.JWT_SECRET).toHaveLength(64);
    expect(fs.statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    const second = loadConfig({ SWITCHBOARD_DATA_DIR: dir });
    expect(second.generatedSecrets).toEqual([]);
    expect(second.secrets).toEqual(first.secrets);
  });

  it('lists every bad variable in one error', () => {
    try {
      loadConfig({
        PORT: 'abc',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        TRUST_PROXY: 'not an ip',
        SWITCHBOARD_DATA_DIR: tmp(),
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'TRUST_PROXY']) expect(problems).toContain(name);
      expect((err as ConfigError).message).toMatch(/^Invalid configuration:/);
    }
  });

  it('refuses missing, short or example secrets in production', () => {
    try {
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', API_KEY_SALT: 'change-me', ENCRYPTION_KEY: strong('k') });
      expect.unreachable();
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/JWT_SECRET: must be at least 32/);
      expect(problems).toMatch(/API_KEY_SALT: is an example/);
      expect(problems).toMatch(/WEBHOOK_SECRET: required/);
      expect(problems).not.toMatch(/ENCRYPTION_KEY/);
    }
  });

  it('accepts strong production secrets without touching the data folder', () => {
    const dir = tmp();
    const cfg = loadConfig({
      NODE_ENV: 'production',
      SWITCHBOARD_DATA_DIR: dir,
      DATABASE_URL: 'postgres://u@h/db',
      JWT_SECRET: strong('j'),
      API_KEY_SALT: strong('a'),
      WEBHOOK_SECRET: strong('w'),
      ENCRYPTION_KEY: strong('e'),
    });
    expect(cfg.mode).toBe('external');
    expect(fs.existsSync(path.join(dir, 'secrets.json'))).toBe(false);
  });

  it('parses TRUST_PROXY forms', () => {
    const dir = tmp();
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir }).trustProxy).toBe(false);
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ SWITCHBOARD_DATA_DIR: dir, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ]);
  });

  it('documents every variable in .env.example', () => {
    const example = fs.readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missing = Object.keys(envSchema.shape).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });
});
