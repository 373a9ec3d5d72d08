import { Inject, Injectable, RequestMethod, type OnApplicationBootstrap } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Logger } from 'pino';
import { ACCESS_METADATA, type AccessRule } from '../common/decorators/access.decorator';
import { ROOT_LOGGER } from '../observability/root-logger';
import { isAccessScope } from './scopes';

export interface RouteAccess {
  controller: string;
  handler: string;
  method: string;
  path: string;
  rule: AccessRule | undefined;
}

/**
 * Every HTTP handler of every controller with the access rule the guard will apply to it
 * (method metadata overrides class metadata, as in the guard).
 */
@Injectable()
export class RouteAccessInspector implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  routes(): RouteAccess[] {
    const out: RouteAccess[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || !wrapper.metatype) continue;
      const controller = wrapper.metatype as new (...args: never[]) => unknown;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      const basePath = [Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined].flat()[0] ?? '';
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as (...args: unknown[]) => unknown;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (path === undefined) continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
        out.push({
          controller: controller.name,
          handler: name,
          method: RequestMethod[method],
          path: `/${[basePath, [path].flat()[0]].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'),
          rule: this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [handler, controller]),
        });
      }
    }
    return out;
  }

  /** Routes with no rule (closed by the guard) or naming a scope nobody can hold. */
  problems(): string[] {
    const problems: string[] = [];
    for (const r of this.routes()) {
      const where = `${r.method} ${r.path} (${r.controller}.${r.handler})`;
      if (!r.rule) problems.push(`${where}: no @Access(...) or @Public()`);
      else if (r.rule.kind === 'scopes')
        for (const s of r.rule.scopes) if (!isAccessScope(s)) problems.push(`${where}: unknown scope "${s}"`);
    }
    return problems;
  }

  onApplicationBootstrap(): void {
    for (const problem of this.problems()) this.log.error({ problem }, 'route access misdeclared; requests to it are refused');
  }
}
