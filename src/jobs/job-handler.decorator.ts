import type { JobContext, JobDefinition, JobPayload } from './job-definition';

export const JOB_HANDLER_METADATA = 'switchboard:job-handler';

/**
 * Marks a provider method as THE handler of a job type:
 *
 * ```ts
 * @JobHandler(welcomeEmailJob)
 * async send(payload: JobPayload<typeof welcomeEmailJob>, ctx: JobContext) { … }
 * ```
 *
 * The payload arrives validated against the job's schema. Throw to retry (with the job's
 * backoff), throw `UnrecoverableError` to fail at once. The provider must be part of a module
 * the app imports; the job must be listed in `JobsModule.forFeature([...])`.
 */
export function JobHandler<D extends JobDefinition>(definition: D) {
  return <R>(
    _target: object,
    _key: string | symbol,
    descriptor: { value?: (payload: JobPayload<D>, ctx: JobContext) => Promise<R> },
  ): void => {
    Reflect.defineMetadata(JOB_HANDLER_METADATA, definition, descriptor.value as object);
  };
}
