import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { JobDefinition, JobHandlerFn } from './job-definition';
import { JOB_HANDLER_METADATA } from './job-handler.decorator';

/** What `JobsModule.forFeature([...])` provides: the job types a feature module owns. */
export class JobDefinitionSet {
  constructor(readonly definitions: readonly JobDefinition[]) {}
}

export class JobRegistryError extends Error {
  constructor(readonly problems: string[]) {
    super(`Job registry is inconsistent:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'JobRegistryError';
  }
}

interface Registered {
  definition: JobDefinition;
  handler?: JobHandlerFn;
  handlerOwner?: string;
}

/**
 * Every job type of the app and its one handler. Definitions come from `forFeature` modules
 * (and the built-in event and system jobs), handlers from `@JobHandler` methods. On bootstrap
 * the registry checks the pairing and refuses to start on: a job without handler, a handler
 * whose job is not registered, two handlers or two definitions for one name.
 */
@Injectable()
export class JobRegistry implements OnApplicationBootstrap {
  private readonly jobs = new Map<string, Registered>();
  private readonly problems: string[] = [];
  private validated = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** Adds job types (used by the built-in event and system jobs). */
  define(definitions: readonly JobDefinition[]): void {
    for (const def of definitions) {
      const existing = this.jobs.get(def.name);
      if (existing && existing.definition !== def) this.problems.push(`job "${def.name}" is defined twice`);
      else if (!existing) this.jobs.set(def.name, { definition: def });
    }
  }

  /** Attaches a handler programmatically (the event dispatcher handles every event type). */
  handle(def: JobDefinition, handler: JobHandlerFn, owner: string): void {
    const entry = this.jobs.get(def.name);
    if (!entry || entry.definition !== def) {
      this.problems.push(`${owner} handles job "${def.name}", which no module registers (JobsModule.forFeature)`);
      return;
    }
    if (entry.handler) {
      this.problems.push(`job "${def.name}" has two handlers: ${entry.handlerOwner} and ${owner}`);
      return;
    }
    entry.handler = handler;
    entry.handlerOwner = owner;
  }

  onApplicationBootstrap(): void {
    this.validate();
  }

  /** Collects definitions and handlers from the app's providers and checks them (idempotent). */
  validate(): void {
    if (this.validated) return;
    const providers = this.discovery.getProviders();
    for (const wrapper of providers) {
      if (wrapper.instance instanceof JobDefinitionSet) this.define(wrapper.instance.definitions);
    }
    for (const wrapper of providers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype) continue;
      const proto = Object.getPrototypeOf(instance) as object | null;
      if (!proto) continue;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const def = Reflect.getMetadata(JOB_HANDLER_METADATA, fn) as JobDefinition | undefined;
        if (def) this.handle(def, (fn as JobHandlerFn).bind(instance), `${proto.constructor.name}.${method}`);
      }
    }
    for (const [name, entry] of this.jobs) if (!entry.handler) this.problems.push(`job "${name}" has no handler (@JobHandler)`);
    if (this.problems.length) throw new JobRegistryError(this.problems);
    this.validated = true;
  }

  definition(name: string): JobDefinition | undefined {
    return this.jobs.get(name)?.definition;
  }

  handler(name: string): JobHandlerFn | undefined {
    return this.jobs.get(name)?.handler;
  }

  all(): JobDefinition[] {
    return [...this.jobs.values()].map((e) => e.definition);
  }

  /** Queue names in registration order (the events queue first). */
  queues(): string[] {
    return [...new Set(this.all().map((d) => d.queue))];
  }

  assertRegistered(def: JobDefinition): void {
    if (this.jobs.get(def.name)?.definition !== def)
      throw new Error(`job "${def.name}" is not registered; list it in JobsModule.forFeature([...])`);
  }
}
