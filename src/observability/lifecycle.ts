import { Injectable } from '@nestjs/common';

/** Process-wide state the readiness probe and the shutdown path share. */
@Injectable()
export class Lifecycle {
  private shuttingDown = false;
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
  beginShutdown(): void {
    this.shuttingDown = true;
  }
}
