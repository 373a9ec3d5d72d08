import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { UnrecoverableError } from 'bullmq';
import type { JobContext } from '../jobs/job-definition';
import { JobRegistry } from '../jobs/job-registry';
import { EVENT_TYPES, type EventEnvelope, type EventType } from './catalogue';
import { EVENT_JOBS } from './event-jobs';
import { ON_EVENT_METADATA } from './on-event.decorator';

type Subscriber = { name: string; fn: (event: EventEnvelope) => Promise<unknown> };

/**
 * Handles every event job: builds the envelope and calls each `@OnEvent` subscriber of the type
 * (and of `'*'`) in turn. All subscribers run even when one fails; the job then fails (and
 * retries) with every error, unrecoverable only if every failure was.
 */
@Injectable()
export class EventDispatcher implements OnModuleInit {
  private readonly subscribers = new Map<string, Subscriber[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: JobRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype) continue;
      const proto = Object.getPrototypeOf(instance) as object | null;
      if (!proto) continue;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const types = Reflect.getMetadata(ON_EVENT_METADATA, fn) as string[] | undefined;
        for (const type of types ?? []) {
          if (type !== '*' && !EVENT_TYPES.includes(type as EventType))
            throw new Error(`@OnEvent('${type}') on ${proto.constructor.name}.${method}: not in the event catalogue`);
          const list = this.subscribers.get(type) ?? [];
          list.push({ name: `${proto.constructor.name}.${method}`, fn: (fn as Subscriber['fn']).bind(instance) });
          this.subscribers.set(type, list);
        }
      }
    }
    const definitions = Object.values(EVENT_JOBS);
    this.registry.define(definitions);
    for (const def of definitions) this.registry.handle(def, (payload, ctx) => this.dispatch(payload, ctx), 'EventDispatcher');
  }

  subscribersOf(type: string): string[] {
    return [...(this.subscribers.get(type) ?? []), ...(this.subscribers.get('*') ?? [])].map((s) => s.name);
  }

  private async dispatch(payload: unknown, ctx: JobContext): Promise<{ subscribers: number }> {
    const event: EventEnvelope = {
      id: ctx.id,
      type: ctx.name as EventType,
      workspace_id: ctx.workspaceId ?? '',
      occurred_at: ctx.job.data.occurred_at ?? new Date(ctx.job.timestamp).toISOString(),
      request_id: ctx.requestId,
      payload: payload as EventEnvelope['payload'],
    };
    const subs = [...(this.subscribers.get(event.type) ?? []), ...(this.subscribers.get('*') ?? [])];
    const errors: Array<{ name: string; err: unknown }> = [];
    for (const sub of subs) {
      try {
        await sub.fn(event);
      } catch (err) {
        ctx.log.warn({ err, subscriber: sub.name, event_id: event.id }, 'event subscriber failed');
        errors.push({ name: sub.name, err });
      }
    }
    if (errors.length) {
      const message = errors.map((e) => `${e.name}: ${e.err instanceof Error ? e.err.message : String(e.err)}`).join('; ');
      if (errors.every((e) => e.err instanceof UnrecoverableError)) throw new UnrecoverableError(message);
      throw new Error(message);
    }
    return { subscribers: subs.length };
  }
}
