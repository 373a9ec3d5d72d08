import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Database } from '../db/database';
import type { Registry } from 'prom-client';

export interface WorkerHealthDeps {
  database: Database;
  redis: Redis | null;
  registry: Registry;
  isRunning(): boolean;
}

async function probe(fn: () => Promise<unknown>, ms: number): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The worker role has no API, but orchestrators still need liveness/readiness and Prometheus
 * needs the queue metrics of each worker. When WORKER_HEALTH_PORT is set, a bare node:http
 * server answers `/health/live`, `/health/ready` (database and Redis reachable, workers
 * running; 503 otherwise or while stopping) and `/metrics`. Nothing else is served.
 */
export async function startWorkerHealthServer(
  deps: WorkerHealthDeps,
  port: number,
  host: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, JSON.stringify({ status: 405, title: 'Method not allowed' }));
    if (url === '/health/live') return send(200, JSON.stringify({ status: 'ok', role: 'worker' }));
    if (url === '/health/ready') {
      void (async () => {
        const checks: Record<string, 'ok' | 'down'> = { database: await probe(() => deps.database.ping(1500), 2000) };
        if (deps.redis) checks.redis = await probe(() => deps.redis!.ping(), 1000);
        checks.workers = deps.isRunning() ? 'ok' : 'down';
        const ok = Object.values(checks).every((c) => c === 'ok');
        send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ok' : 'unavailable', role: 'worker', checks }));
      })();
      return;
    }
    if (url === '/metrics') {
      deps.registry.metrics().then(
        (text) => send(200, text, 'text/plain; version=0.0.4; charset=utf-8'),
        () => send(500, 'metrics unavailable\n', 'text/plain'),
      );
      return;
    }
    send(404, JSON.stringify({ status: 404, title: 'Not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
