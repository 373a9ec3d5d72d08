import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../../observability/root-logger';
import { CredentialsRepository } from '../credentials.repository';

/** How often buffered `last_used_at` values are written (one UPDATE for all keys used since). */
export const LAST_USED_FLUSH_MS = 15_000;

/**
 * Records API-key use in memory and writes `last_used_at` in one batched statement every
 * LAST_USED_FLUSH_MS, and on shutdown: a busy key costs no write per request, and the stored
 * value is at most one flush interval behind.
 */
@Injectable()
export class ApiKeyUsage implements OnModuleInit, OnApplicationShutdown {
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly repo: CredentialsRepository,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(apiKeyId: string, at = new Date()): void {
    this.pending.set(apiKeyId, at);
  }

  /** Writes what is buffered; concurrent calls share one write. */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (!this.pending.size) return;
    const batch = [...this.pending].map(([id, at]) => ({ id, at }));
    this.pending = new Map();
    this.flushing = this.repo.touchApiKeys(batch).catch((err: Error) => {
      // Keep what failed for the next round unless a newer use replaced it.
      for (const b of batch) if (!this.pending.has(b.id)) this.pending.set(b.id, b.at);
      this.log.warn({ err: { message: err.message }, keys: batch.length }, 'could not record API key use; will retry');
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }
}
