import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the HubSpot CRM v3 contacts batch-upsert API (format in
 * shared/reference/providers.md): `POST /crm/v3/objects/contacts/batch/upsert` with
 * `{ inputs: [{ idProperty: "email", id, properties }] }` and a Bearer private-app token.
 * Answers 200 with `{ status, results: [{ id, properties, createdAt, updatedAt, new }] }`, or 207
 * with `errors` when some inputs are invalid. Property values must be strings, as in HubSpot.
 */
export interface FakeContact {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface FakeHubSpotRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

type Failure = { status: number; headers?: Record<string, string>; body?: string };

export class HubSpotFake {
  readonly requests: FakeHubSpotRequest[] = [];
  readonly contacts = new Map<string, FakeContact>();
  url = '';
  private readonly failures: Failure[] = [];
  private readonly server: http.Server;
  private nextId = 1000;
  private waiters: Array<{ predicate: () => boolean; resolve: () => void }> = [];

  constructor(readonly token = 'pat-na1-test-token') {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` upsert calls fail with this answer (e.g. 429 + Retry-After, 500). */
  failNext(failure: Failure, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(failure);
  }

  /** Upsert calls received (including failed ones). */
  get upserts(): FakeHubSpotRequest[] {
    return this.requests.filter((r) => r.url === '/crm/v3/objects/contacts/batch/upsert');
  }

  waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('HubSpotFake.waitFor timed out')), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.resolve();
      return false;
    });
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
    setImmediate(() => this.notify());
  }

  private handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      /* keep raw */
    }
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
    if (req.method !== 'POST' || req.url !== '/crm/v3/objects/contacts/batch/upsert') {
      return this.send(res, 404, { status: 'error', message: 'Not found', category: 'OBJECT_NOT_FOUND' });
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.send(res, 401, {
        status: 'error',
        message: 'Authentication credentials not found.',
        category: 'INVALID_AUTHENTICATION',
      });
    }
    const failure = this.failures.shift();
    if (failure)
      return this.send(res, failure.status, failure.body ?? { status: 'error', message: 'fake failure' }, failure.headers);

    const inputs = (body as { inputs?: unknown })?.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 100) {
      return this.send(res, 400, { status: 'error', message: 'inputs must hold 1..100 items', category: 'VALIDATION_ERROR' });
    }
    const results: Array<FakeContact & { new: boolean; archived: boolean }> = [];
    const errors: unknown[] = [];
    for (const input of inputs as Array<{ idProperty?: unknown; id?: unknown; properties?: Record<string, unknown> }>) {
      const props = input.properties ?? {};
      const nonString = Object.entries(props).filter(([, v]) => typeof v !== 'string');
      if (input.idProperty !== 'email' || typeof input.id !== 'string' || nonString.length) {
        return this.send(res, 400, {
          status: 'error',
          message: `Invalid input: idProperty must be "email", id a string, property values strings (${nonString.map(([k]) => k).join(',')})`,
          category: 'VALIDATION_ERROR',
        });
      }
      const email = input.id.toLowerCase();
      if (!email.includes('@')) {
        errors.push({
          status: 'error',
          category: 'VALIDATION_ERROR',
          message: `Email ${email} is invalid`,
          context: { id: [email] },
        });
        continue;
      }
      const now = new Date().toISOString();
      const existing = this.contacts.get(email);
      const contact: FakeContact = existing
        ? { ...existing, properties: { ...existing.properties, ...(props as Record<string, string>) }, updatedAt: now }
        : {
            id: String(this.nextId++),
            properties: { ...(props as Record<string, string>), email },
            createdAt: now,
            updatedAt: now,
          };
      this.contacts.set(email, contact);
      results.push({ ...contact, new: !existing, archived: false });
    }
    const payload = {
      status: 'COMPLETE',
      results,
      startedAt: new Date().toISOString(),
      completedAt: new Date().toISOString(),
      ...(errors.length ? { numErrors: errors.length, errors } : {}),
    };
    return this.send(res, errors.length ? 207 : 200, payload);
  }
}

export async function startHubSpotFake(token?: string): Promise<HubSpotFake> {
  return new HubSpotFake(token).start();
}
