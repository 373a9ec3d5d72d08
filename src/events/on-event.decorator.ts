import type { EventEnvelope, EventType } from './catalogue';

export const ON_EVENT_METADATA = 'switchboard:on-event';

/**
 * Subscribes a provider method to events of the catalogue (`'*'` for all). Runs in the worker
 * role, inside the event's job (`jobId = event id`), after the transaction that emitted it
 * committed. Delivery is at least once and a failing subscriber makes the whole event job retry,
 * so subscribers must be idempotent and quick: typically they enqueue a job with a deterministic
 * id (`${event.id}-…`) or record the effect with EffectsService.
 */
export function OnEvent<T extends EventType | '*'>(type: T) {
  return <R>(
    _target: object,
    _key: string | symbol,
    descriptor: { value?: (event: EventEnvelope<T extends EventType ? T : EventType>) => Promise<R> },
  ): void => {
    const fn = descriptor.value as object;
    const types = (Reflect.getMetadata(ON_EVENT_METADATA, fn) as string[] | undefined) ?? [];
    Reflect.defineMetadata(ON_EVENT_METADATA, [...types, type], fn);
  };
}
