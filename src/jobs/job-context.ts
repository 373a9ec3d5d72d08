import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request id of the work in progress: the HTTP request (set by an onRequest hook in createHttpApp)
 * or the job being processed (set by the worker from the job's data). `emit()` and
 * `JobsService.enqueue()` copy it into what they write, so one id links a request's log lines
 * to the log lines of every job it caused.
 */
interface WorkContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<WorkContext>();

export function runWithRequestId<T>(requestId: string | null | undefined, fn: () => T): T {
  return requestId ? storage.run({ requestId }, fn) : fn();
}

export function currentRequestId(): string | null {
  return storage.getStore()?.requestId ?? null;
}
