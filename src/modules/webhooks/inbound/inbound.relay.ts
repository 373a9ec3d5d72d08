import { Inject, Injectable, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { JobsRuntime } from '../../../jobs/jobs.runtime';
import { ROOT_LOGGER } from '../../../observability/root-logger';
import { InboundDispatcher } from './inbound.dispatcher';
import { InboundRepository } from './inbound.repository';

/** How often a worker looks for events stored by an `api` process (which cannot wake it). */
export const INBOUND_RELAY_POLL_MS = 250;
const BATCH = 500;

/**
 * Hands stored inbound events to the processing job, so that ingest stays one durable write:
 * the request answers after its INSERT, and this relay (in processes running the worker role)
 * claims `received` rows in batches and enqueues them with one bulk add. In the same process
 * ingest pokes it; rows written by `api` processes are found by polling. A claim is a lease
 * (`claimed_until`): if the hand-off fails, the rows are claimed again after it lapses, and job
 * ids are deterministic, so a row is never processed twice.
 */
@Injectable()
export class InboundRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly repo: InboundRepository,
    private readonly dispatcher: InboundDispatcher,
    private readonly jobs: JobsRuntime,
    @Optional() @Inject(ROOT_LOGGER) private readonly log?: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.poke(), INBOUND_RELAY_POLL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Something was stored (or the poll fired): relay now, or once more after the current run. */
  poke(): void {
    if (this.stopped || !this.jobs.isRunning) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        let claimed: number;
        do {
          const rows = await this.repo.claimStale(0, BATCH);
          await this.dispatcher.dispatch(rows);
          claimed = rows.length;
        } while (claimed === BATCH && !this.stopped);
      } catch (err) {
        // The claimed rows come back after their lease; the poll keeps trying meanwhile.
        this.log?.warn({ err: { message: (err as Error).message } }, 'inbound relay hand-off failed; will retry');
        return;
      }
    } while (this.again && !this.stopped);
  }
}
