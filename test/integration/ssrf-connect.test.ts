import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OutboundAddressPolicy } from '../../src/modules/webhooks/outbound/ssrf/address-policy';
import { createGuardedAgent, type Resolver } from '../../src/modules/webhooks/outbound/ssrf/guarded-agent';
import { validateOutboundUrl } from '../../src/modules/webhooks/outbound/ssrf/url-policy';
import { sendWebhook } from '../../src/modules/webhooks/outbound/http-sender';
import { WebhookReceiver } from '../fakes/webhook-receiver';

/**
 * Safety net: no test here may ever open a socket to anything but loopback, even if the guard
 * under test were broken (traffic to private ranges is not allowed from this machine).
 */
const realNetConnect = net.connect;
const realTlsConnect = tls.connect;
const attempted: string[] = [];
const LOOPBACK = /^(127\.0\.0\.1|localhost|::1)$/;
type LookupCb = (err: Error | null, address: unknown, family?: number) => void;
function loopbackOnly(real: (...a: never[]) => unknown) {
  return (...args: unknown[]) => {
    const o = args[0] as { host?: string; lookup?: (h: string, opts: object, cb: LookupCb) => void };
    const host = String((typeof o === 'object' && o && o.host) || 'localhost');
    attempted.push(host);
    if (!LOOPBACK.test(host) && !o.lookup) throw new Error(`test safety net: refused socket to ${host}`);
    if (o.lookup) {
      // Names: whatever the lookup hands to the socket must be loopback too.
      const inner = o.lookup;
      o.lookup = (h, opts, cb) =>
        inner(h, opts, (err, address, family) => {
          const list = (Array.isArray(address) ? address : [{ address }]) as Array<{ address: string }>;
          const bad = list.find((a) => !LOOPBACK.test(a.address));
          if (!err && bad)
            return cb(new Error(`test safety net: refused socket to ${bad.address}`), Array.isArray(address) ? [] : '');
          if (!err) attempted.push(...list.map((a) => a.address));
          cb(err, address, family);
        });
    }
    return (real as (...a: unknown[]) => unknown)(...args);
  };
}

describe('SSRF guard at connect time (rows 15, 16)', () => {
  let receiver: WebhookReceiver;
  let port: string;
  beforeAll(async () => {
    vi.spyOn(net, 'connect').mockImplementation(loopbackOnly(realNetConnect) as typeof net.connect);
    vi.spyOn(tls, 'connect').mockImplementation(loopbackOnly(realTlsConnect) as typeof tls.connect);
    receiver = await WebhookReceiver.start();
    port = new URL(receiver.url).port;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await receiver.close();
  });
  afterEach(() => {
    receiver.reset();
    attempted.length = 0;
  });

  const post = (agent: ReturnType<typeof createGuardedAgent>, url: string) =>
    sendWebhook(agent, { url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 3000 });

  it('reaches a local receiver only when OUTBOUND_ALLOW_CIDRS allows it', async () => {
    const allowed = createGuardedAgent(new OutboundAddressPolicy(['127.0.0.1/32']));
    const res = await post(allowed, `${receiver.url}/hook`);
    expect(res.status).toBe(200);
    expect(receiver.requests).toHaveLength(1);
    expect(attempted).toContain('127.0.0.1'); // the safety net sees every socket

    const strict = createGuardedAgent(new OutboundAddressPolicy());
    const blocked = await post(strict, `${receiver.url}/hook`);
    expect(blocked.status).toBeNull();
    expect(blocked.errorCode).toBe('ssrf_blocked');
    expect(receiver.requests).toHaveLength(1);
    await Promise.all([allowed.close(), strict.close()]);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://100.64.0.1/',
    'http://192.168.0.10/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
  ])('row 15: refuses %s when sending, without opening a socket', async (url) => {
    const agent = createGuardedAgent(new OutboundAddressPolicy(['127.0.0.1/32']));
    const res = await post(agent, url);
    expect(res.errorCode).toBe('ssrf_blocked');
    expect(attempted).toEqual([]);
    await agent.close();
  });

  it.each([
    'http://2130706433:PORT/',
    'http://0x7f.1:PORT/',
    'http://0177.0.0.1:PORT/',
    'http://[::ffff:127.0.0.1]:PORT/',
    'http://127.0.0.1:PORT/',
  ])('row 15: refuses the loopback spelling %s when sending', async (template) => {
    const agent = createGuardedAgent(new OutboundAddressPolicy());
    const res = await post(agent, template.replace('PORT', port));
    expect(res.errorCode).toBe('ssrf_blocked');
    expect(receiver.requests).toHaveLength(0);
    await agent.close();
  });

  it('row 16: a name resolving to a private address is blocked at connect', async () => {
    const agent = createGuardedAgent(new OutboundAddressPolicy());
    const res = await post(agent, `http://localhost:${port}/hook`);
    expect(res.errorCode).toBe('ssrf_blocked');
    expect(res.errorMessage).toMatch(/localhost/);
    expect(receiver.requests).toHaveLength(0);
    await agent.close();
  });

  it('row 16: DNS rebinding (public at save time, loopback at connect) fails at connect', async () => {
    let calls = 0;
    const rebinding: Resolver = async () => {
      calls += 1;
      return calls === 1 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    };
    const policy = new OutboundAddressPolicy();
    const url = `http://rebind.example.test:${port}/hook`;
    await expect(validateOutboundUrl(url, policy, { lookup: rebinding })).resolves.toBeInstanceOf(URL);
    const agent = createGuardedAgent(policy, { resolve: rebinding });
    const res = await post(agent, url);
    expect(res.errorCode).toBe('ssrf_blocked');
    expect(res.errorMessage).toContain('127.0.0.1');
    expect(receiver.requests).toHaveLength(0);
    expect(attempted.filter((h) => h !== 'rebind.example.test')).toEqual([]);
    await agent.close();
  });

  it('keeps only the allowed addresses of a name that resolves to several', async () => {
    const mixed: Resolver = async () => [
      { address: '10.9.9.9', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const agent = createGuardedAgent(new OutboundAddressPolicy(['127.0.0.1/32']), { resolve: mixed });
    const res = await post(agent, `http://mixed.example.test:${port}/hook`);
    expect(res.status).toBe(200);
    expect(attempted.every((h) => h !== '10.9.9.9')).toBe(true);
    await agent.close();
  });

  it('row 16: a receiver redirecting (302) to a private address is not followed and counts as a failure', async () => {
    receiver.enqueue({ kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data/' });
    const agent = createGuardedAgent(new OutboundAddressPolicy(['127.0.0.1/32']));
    const res = await post(agent, `${receiver.url}/hook`);
    expect(res.status).toBe(302);
    expect(res.ok).toBe(false);
    expect(res.headers.location).toContain('169.254.169.254');
    expect(receiver.requests).toHaveLength(1);
    expect(attempted.every((h) => h === '127.0.0.1')).toBe(true);
    await agent.close();
  });
});
