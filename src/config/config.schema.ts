import { z } from 'zod';
import { isValidCidr } from '../modules/webhooks/outbound/ssrf/address-policy';

/** Values that ship in .env.example or docs; production refuses to start with them. */
export const EXAMPLE_SECRET_VALUES = new Set([
  'change-me',
  'changeme',
  'secret',
  'replace-with-32-random-bytes-hex',
  'your-jwt-secret',
  'your-api-key-salt',
  'your-webhook-secret',
]);

export const MIN_SECRET_LENGTH = 32;
export const SECRET_NAMES = ['JWT_SECRET', 'API_KEY_SALT', 'WEBHOOK_SECRET', 'ENCRYPTION_KEY'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const pgUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');
const redisUrl = z
  .string()
  .url()
  .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL');

/**
 * Every environment variable Switchboard reads. `.env.example` documents each one;
 * a unit test checks the two stay in step.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(3000),
  PUBLIC_URL: z.string().url().optional(),
  SWITCHBOARD_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: pgUrl.optional(),
  DATABASE_POOL_MAX: int(1, 500).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(15_000),
  DATABASE_CONNECT_RETRIES: int(0, 100).default(10),
  MIGRATE_ON_START: bool.default(true),
  REDIS_URL: redisUrl.optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/)
    .default('switchboard:'),
  JWT_SECRET: z.string().optional(),
  API_KEY_SALT: z.string().optional(),
  WEBHOOK_SECRET: z.string().optional(),
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_PREVIOUS_KEYS: list.default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.default(false),
  BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  JSON_MAX_DEPTH: int(2, 1000).default(32),
  CORS_ORIGINS: list.default([]),
  TRUST_PROXY: z.string().default('false'),
  RATE_LIMIT_MAX: int(1, 1_000_000).default(300),
  RATE_LIMIT_WINDOW_MS: int(1000, 86_400_000).default(60_000),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  // identity (issue 3): failed sign-ins allowed per account and per IP within the window
  LOGIN_MAX_FAILURES_PER_ACCOUNT: int(1, 10_000).default(10),
  LOGIN_MAX_FAILURES_PER_IP: int(1, 100_000).default(100),
  LOGIN_THROTTLE_WINDOW_MS: int(1000, 86_400_000).default(15 * 60_000),
  // --- leads, email, CRM (issue 5; see docs/leads.md) ---
  SMTP_URL: z
    .string()
    .url()
    .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  EMAIL_FROM: z.string().min(3).max(320).default('Switchboard <no-reply@localhost>'),
  CAPTURE_RATE_LIMIT_PER_IP: int(1, 1_000_000).default(30),
  CAPTURE_RATE_LIMIT_PER_EMAIL: int(1, 1_000_000).default(5),
  CAPTURE_RATE_LIMIT_WINDOW_MS: int(1000, 86_400_000).default(60_000),
  HUBSPOT_API_BASE_URL: z.string().url().default('https://api.hubapi.com'),
  HUBSPOT_TIMEOUT_MS: int(100, 120_000).default(15_000),
  // --- analytics (GA4, Meta, LinkedIn) ---
  GA4_API_BASE_URL: z.string().url().default('https://analyticsdata.googleapis.com/v1beta'),
  GOOGLE_OAUTH_TOKEN_URL: z.string().url().default('https://oauth2.googleapis.com/token'),
  META_GRAPH_BASE_URL: z.string().url().default('https://graph.facebook.com'),
  META_GRAPH_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v26.0')
    .default('v26.0'),
  LINKEDIN_API_BASE_URL: z.string().url().default('https://api.linkedin.com/rest'),
  LINKEDIN_VERSION: z
    .string()
    .regex(/^\d{6}$/, 'must be YYYYMM')
    .default('202606'),
  LINKEDIN_OAUTH_TOKEN_URL: z.string().url().default('https://www.linkedin.com/oauth/v2/accessToken'),
  ANALYTICS_LOOKBACK_DAYS_GA4: int(0, 365).default(2),
  ANALYTICS_LOOKBACK_DAYS_META: int(0, 365).default(28),
  ANALYTICS_LOOKBACK_DAYS_LINKEDIN: int(0, 365).default(7),
  ANALYTICS_INITIAL_SYNC_DAYS: int(1, 3650).default(30),
  ANALYTICS_SYNC_SCHEDULE: z.string().min(9).default('0 * * * *'),
  ANALYTICS_HTTP_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  ANALYTICS_RETRY_ATTEMPTS: int(1, 20).default(4),
  ANALYTICS_RETRY_BASE_MS: int(0, 600_000).default(1000),
  ANALYTICS_RETRY_MAX_MS: int(0, 3_600_000).default(60_000),
  ANALYTICS_QUOTA_PAUSE_MS: int(0, 86_400_000).default(900_000),
  ANALYTICS_META_USAGE_THRESHOLD: int(1, 100).default(95),
  ANALYTICS_SYNC_LEASE_MS: int(5000, 3_600_000).default(300_000),
  ANALYTICS_REPORTING_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
    .optional(),
  ANALYTICS_FX_RATES: z
    .string()
    .regex(/^([A-Z]{3}=\d+(\.\d+)?)(\s*,\s*[A-Z]{3}=\d+(\.\d+)?)*$/, 'must look like EUR=1.08,GBP=1.27')
    .optional(),
  ANALYTICS_REPORT_INLINE_MAX_DAYS: int(1, 3660).default(31),
  ANALYTICS_MIN_SYNC_INTERVAL_S: int(1, 86_400).default(900),
  ANALYTICS_PAGE_SIZE: int(1, 250_000).optional(),
  // --- webhooks (inbound + outbound; see docs/webhooks.md) ---
  DEFAULT_WORKSPACE_ID: z.string().uuid().optional(),
  OUTBOUND_ALLOW_CIDRS: list
    .default([])
    .refine((v) => v.every(isValidCidr), 'must be comma-separated IP addresses or CIDR ranges'),
  OUTBOUND_TIMEOUT_MS: int(100, 15_000).default(15_000),
  // --- jobs and events (issue 4; see docs/jobs.md) ---
  JOBS_PG_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier')
    .default('bullmq'),
  JOBS_PG_POOL_MAX: int(2, 500).default(20),
  JOBS_CONCURRENCY: z
    .string()
    .regex(/^[a-z][a-z0-9-]*=\d+(\s*,\s*[a-z][a-z0-9-]*=\d+)*$/, 'must look like events=20,default=5')
    .transform((v) =>
      Object.fromEntries(
        v
          .split(',')
          .map((p) => p.trim().split('='))
          .map(([k, n]) => [k, Number(n)]),
      ),
    )
    .pipe(z.record(z.string(), z.number().int().min(1).max(1000)))
    .default({}),
  JOBS_DEFAULT_CONCURRENCY: int(1, 1000).default(5),
  JOBS_ATTEMPTS: int(1, 100).default(5),
  JOBS_BACKOFF_DELAY_MS: int(1, 3_600_000).default(2000),
  JOBS_BACKOFF_JITTER: z.coerce.number().min(0).max(1).default(0.5),
  JOBS_KEEP_COMPLETED_COUNT: int(0, 1_000_000).default(1000),
  JOBS_KEEP_COMPLETED_AGE_S: int(1, 31_536_000).default(86_400),
  JOBS_KEEP_FAILED_COUNT: int(0, 1_000_000).default(10_000),
  JOBS_KEEP_FAILED_AGE_S: int(1, 31_536_000).default(14 * 86_400),
  JOBS_LOCK_DURATION_MS: int(500, 600_000).default(30_000),
  JOBS_STALLED_INTERVAL_MS: int(500, 600_000).default(30_000),
  OUTBOX_POLL_INTERVAL_MS: int(10, 60_000).default(500),
  OUTBOX_BATCH_SIZE: int(1, 5000).default(500),
  OUTBOX_CLAIM_TTL_MS: int(100, 600_000).default(30_000),
  EVENTS_RETENTION_DAYS: int(1, 3650).default(30),
  WORKER_HEALTH_PORT: int(0, 65535).optional(),
});

export type Env = z.infer<typeof envSchema>;
