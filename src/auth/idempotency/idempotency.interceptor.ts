import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { lastValueFrom, of, type Observable } from 'rxjs';
import { DomainError } from '../../common/errors/domain-error';
import { ROOT_LOGGER } from '../../observability/root-logger';
import { authOf } from '../auth-context';
import { IDEMPOTENCY_REDACT_METADATA } from './idempotency.decorator';
import { IdempotencyRepository } from './idempotency.repository';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A claimed key with no response after this long belongs to a request that died: reusable. */
export const IDEMPOTENCY_STALE_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted, so the same body hashes the same however its keys are ordered. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * `Idempotency-Key` on any authenticated POST (global interceptor, runs after the access guard).
 * The first request with a key claims it in `idempotency_keys` (per workspace) and stores its
 * status and body when it succeeds. A retry with the same key and the same method, path and
 * body replays that response (header `Idempotent-Replayed: true`); with anything else → 422.
 * While the first is still running → 409. A failed request frees its key so a retry runs
 * again. Keys are kept 24 h.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor, OnModuleInit, OnModuleDestroy {
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: IdempotencyRepository,
    private readonly reflector: Reflector,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(
      () =>
        void this.repo
          .deleteOlderThan(IDEMPOTENCY_TTL_MS)
          .catch((err: Error) => this.log.warn({ err: { message: err.message } }, 'idempotency key sweep failed')),
      3_600_000,
    );
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (request.method !== 'POST' || header === undefined) return next.handle();
    const auth = authOf(request);
    // Keys are stored per workspace; unauthenticated (public) routes have none and ignore the header.
    if (!auth) return next.handle();
    const key = Array.isArray(header) ? header[0] : header;
    if (!KEY_PATTERN.test(key))
      throw new DomainError('bad_request', 'Idempotency-Key must be 1-255 printable ASCII characters', [
        { path: 'Idempotency-Key', message: 'Invalid idempotency key' },
      ]);
    return this.handle(context, next, auth.workspaceId, key, request);
  }

  private async handle(
    context: ExecutionContext,
    next: CallHandler,
    workspaceId: Parameters<IdempotencyRepository['find']>[0],
    key: string,
    request: FastifyRequest,
  ): Promise<Observable<unknown>> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const path = request.url.split('?')[0];
    const requestHash = createHash('sha256')
      .update(`${request.method}\n${request.url}\n${canonicalJson(request.body ?? null)}`)
      .digest('hex');
    const values = { key, method: request.method, path, requestHash };

    let claimed = await this.repo.claim(workspaceId, values);
    if (!claimed) {
      const existing = await this.repo.find(workspaceId, key);
      if (existing && existing.requestHash !== requestHash && existing.createdAt.getTime() > Date.now() - IDEMPOTENCY_TTL_MS)
        throw new DomainError(
          'idempotency_key_mismatch',
          'This Idempotency-Key was already used with a different request (method, path or body)',
        );
      if (existing?.statusCode != null && existing.createdAt.getTime() > Date.now() - IDEMPOTENCY_TTL_MS) {
        reply.status(existing.statusCode).header('idempotent-replayed', 'true');
        return of(existing.responseBody ?? undefined);
      }
      claimed =
        (existing ? await this.repo.reclaim(workspaceId, values, IDEMPOTENCY_TTL_MS, IDEMPOTENCY_STALE_MS) : false) ||
        (!existing && (await this.repo.claim(workspaceId, values)));
      if (!claimed)
        throw new DomainError('conflict', 'A request with this Idempotency-Key is still in progress; retry shortly', undefined, {
          'retry-after': '1',
        });
    }

    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const redact = this.reflector.get<string[] | undefined>(IDEMPOTENCY_REDACT_METADATA, context.getHandler());
      const stored =
        redact && body && typeof body === 'object'
          ? Object.fromEntries(Object.entries(body).filter(([k]) => !redact.includes(k)))
          : body;
      await this.repo.complete(workspaceId, key, reply.statusCode, stored);
      return of(body);
    } catch (err) {
      await this.repo
        .release(workspaceId, key)
        .catch((e: Error) => this.log.warn({ err: { message: e.message } }, 'could not release an idempotency key'));
      throw err;
    }
  }
}
