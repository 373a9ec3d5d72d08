import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/** What the receiver answers to one request. */
export type ReceiverBehaviour =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** Accept the request and never answer (until the receiver closes). */
  | { kind: 'hang' }
  /** 200 with an endless (or `bytes`-long) body streamed as fast as the client reads. */
  | { kind: 'huge'; bytes?: number }
  | { kind: 'redirect'; location: string; status?: number };

export const ok = (body = 'ok'): ReceiverBehaviour => ({ kind: 'status', status: 200, body });
export const gone = (): ReceiverBehaviour => ({ kind: 'status', status: 410, body: 'gone' });
export const tooMany = (retryAfter: string): ReceiverBehaviour => ({
  kind: 'status',
  status: 429,
  body: 'slow down',
  headers: { 'retry-after': retryAfter },
});
export const unavailable = (retryAfter?: string): ReceiverBehaviour => ({
  kind: 'status',
  status: 503,
  body: 'unavailable',
  headers: retryAfter ? { 'retry-after': retryAfter } : {},
});

/**
 * A local HTTP receiver for outbound-webhook tests: records every request and answers with a
 * queued behaviour (then the default). Lives on 127.0.0.1 only.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Bytes of `huge` bodies actually written before the client hung up. */
  hugeBytesWritten = 0;
  private readonly queue: ReceiverBehaviour[] = [];
  private defaultBehaviour: ReceiverBehaviour = ok();
  private readonly server: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  /** Default behaviour for requests with nothing queued. */
  respondWith(b: ReceiverBehaviour): this {
    this.defaultBehaviour = b;
    return this;
  }

  /** Behaviours for the next requests, in order. */
  enqueue(...b: ReceiverBehaviour[]): this {
    this.queue.push(...b);
    return this;
  }

  /** Resolves once `n` requests in total have arrived. */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`receiver got ${this.requests.length} of ${n} requests`)),
        timeoutMs,
      ).unref();
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.hugeBytesWritten = 0;
    this.defaultBehaviour = ok();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      });
      this.waiters = this.waiters.filter((w) => {
        if (this.requests.length >= w.n) w.resolve();
        return this.requests.length < w.n;
      });
      const b = this.queue.shift() ?? this.defaultBehaviour;
      switch (b.kind) {
        case 'status':
          res.writeHead(b.status, { 'content-type': 'text/plain', ...b.headers });
          res.end(b.body ?? '');
          return;
        case 'hang':
          return;
        case 'redirect':
          res.writeHead(b.status ?? 302, { location: b.location });
          res.end();
          return;
        case 'huge': {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const block = Buffer.alloc(64 * 1024, 'x');
          const limit = b.bytes ?? Number.POSITIVE_INFINITY;
          const pump = () => {
            while (this.hugeBytesWritten < limit && !res.destroyed) {
              this.hugeBytesWritten += block.length;
              if (!res.write(block)) return void res.once('drain', pump);
            }
            if (!res.destroyed) res.end();
          };
          res.on('close', () => undefined);
          pump();
          return;
        }
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
