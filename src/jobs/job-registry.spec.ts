import 'reflect-metadata';
import { Injectable, Module, type DynamicModule, type Type } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, type JobContext } from './job-definition';
import { JobHandler } from './job-handler.decorator';
import { JobDefinitionSet, JobRegistry, JobRegistryError } from './job-registry';

const alpha = defineJob({ name: 'test.alpha', queue: 'q', schema: z.object({ n: z.number() }), description: 'a' });
const beta = defineJob({ name: 'test.beta', queue: 'q2', schema: z.object({}), description: 'b' });

@Injectable()
class AlphaHandler {
  @JobHandler(alpha)
  async run(payload: { n: number }, _ctx: JobContext) {
    return payload.n * 2;
  }
}

@Injectable()
class SecondAlphaHandler {
  @JobHandler(alpha)
  async again(_payload: { n: number }) {
    return 0;
  }
}

@Injectable()
class BetaHandler {
  @JobHandler(beta)
  async run() {
    return 'b';
  }
}

async function boot(definitions: Array<typeof alpha | typeof beta>, handlers: Type[]): Promise<JobRegistry> {
  @Module({})
  class Root {}
  const root: DynamicModule = {
    module: Root,
    imports: [DiscoveryModule],
    providers: [JobRegistry, ...handlers, { provide: 'defs', useValue: new JobDefinitionSet(definitions) }],
  };
  const ctx = await NestFactory.createApplicationContext(root, { logger: false, abortOnError: false });
  const registry = ctx.get(JobRegistry);
  await ctx.close();
  return registry;
}

describe('JobRegistry', () => {
  it('pairs every registered job with its one handler', async () => {
    const registry = await boot([alpha, beta], [AlphaHandler, BetaHandler]);
    expect(registry.definition('test.alpha')).toBe(alpha);
    expect(await registry.handler('test.alpha')!({ n: 21 }, {} as JobContext)).toBe(42);
    expect(registry.queues()).toEqual(['q', 'q2']);
    expect(() => registry.assertRegistered(alpha)).not.toThrow();
  });

  it('refuses to start when a job has no handler', async () => {
    await expect(boot([alpha, beta], [AlphaHandler])).rejects.toThrow(/job "test.beta" has no handler/);
  });

  it('refuses to start when a handler has no registered job', async () => {
    const err = await boot([alpha], [AlphaHandler, BetaHandler]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobRegistryError);
    expect((err as JobRegistryError).problems).toEqual([
      'BetaHandler.run handles job "test.beta", which no module registers (JobsModule.forFeature)',
    ]);
  });

  it('refuses two handlers for one job', async () => {
    await expect(boot([alpha], [AlphaHandler, SecondAlphaHandler])).rejects.toThrow(
      /two handlers: AlphaHandler.run and SecondAlphaHandler.again/,
    );
  });
});

describe('defineJob', () => {
  it('checks names BullMQ would reject', () => {
    expect(() => defineJob({ name: 'a:b', queue: 'q', schema: z.object({}), description: '' })).toThrow(/job name/);
    expect(() => defineJob({ name: 'ok', queue: 'has:colon', schema: z.object({}), description: '' })).toThrow(/queue name/);
  });
});
