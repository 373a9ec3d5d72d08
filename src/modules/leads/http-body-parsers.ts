import { pipeline, Transform, type Readable } from 'node:stream';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { DomainError } from '../../common/errors/domain-error';

/** Largest CSV upload accepted by `POST /leads/import` (streamed, never buffered). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

/** Counts bytes through the stream and fails it with a 413 past the limit. */
export function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) return cb(new DomainError('payload_too_large', `The upload is larger than ${limit} bytes`));
      cb(null, chunk);
    },
  });
}

/**
 * Content types the lead routes accept besides JSON:
 * - `application/x-www-form-urlencoded`: plain HTML forms posting to `/capture` (and the RFC
 *   8058 one-click body `List-Unsubscribe=One-Click`); parsed with URLSearchParams into an
 *   object of strings, within the normal body limit;
 * - `text/csv`: imports; the body is handed over as a stream (size-capped) so a 100k-row file is
 *   parsed while it arrives;
 * - `multipart/form-data`: RFC 8058 allows the one-click unsubscribe POST in this encoding too;
 *   the body (at most 64 KiB) is read and ignored (no route takes file uploads this way).
 * Registered before the server starts; skipped when another module already registered one.
 */
@Injectable()
export class LeadsBodyParsers implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.hasContentTypeParser !== 'function') return;
    if (!fastify.hasContentTypeParser('application/x-www-form-urlencoded')) {
      fastify.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: this.config.BODY_LIMIT_BYTES },
        (_req, body, done) => {
          const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
          for (const [k, v] of new URLSearchParams(body as string)) {
            if (k === '__proto__' || k === 'constructor' || k === 'prototype') {
              return done(new DomainError('bad_request', `Forbidden field name ${k}`), undefined);
            }
            const prev = out[k];
            out[k] = prev === undefined ? v : Array.isArray(prev) ? [...(prev as string[]), v] : [prev, v];
          }
          done(null, { ...out });
        },
      );
    }
    if (!fastify.hasContentTypeParser('multipart/form-data')) {
      fastify.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, _body, done) =>
        done(null, {}),
      );
    }
    if (!fastify.hasContentTypeParser('text/csv')) {
      fastify.addContentTypeParser('text/csv', (_req, payload, done) => {
        const limited = byteLimit(MAX_IMPORT_BYTES);
        // pipeline: an aborted upload errors the stream the handler reads (never a silent end).
        pipeline(payload as Readable, limited, () => undefined);
        done(null, limited);
      });
    }
  }
}
