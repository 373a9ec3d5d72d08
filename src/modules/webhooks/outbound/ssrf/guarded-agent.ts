import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import net from 'node:net';
import { Agent, buildConnector } from 'undici';
import { parseIpHost, type OutboundAddressPolicy } from './address-policy';

/** Raised (as the connect error) when every address of a host is blocked by the policy. */
export class SsrfBlockedError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`Outbound connection to ${host} refused: ${reason}`);
    this.name = 'SsrfBlockedError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** The resolver used to find the addresses of a host (tests inject one to simulate rebinding). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;
export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * A `net.connect` lookup that resolves the host and drops every address the policy blocks, so
 * the socket can only connect to an allowed address — whatever DNS answered at save time
 * (DNS rebinding fails here, on the address actually connected to).
 */
export function guardedLookup(policy: OutboundAddressPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (all) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const candidates = family ? all.filter((a) => a.family === family) : all;
        const verdicts = candidates.map((a) => ({ a, v: policy.check(a.address) }));
        const allowed = verdicts.filter((x) => x.v.allowed).map((x) => x.a);
        if (!allowed.length) {
          const first = verdicts[0]?.v;
          const reason = first && !first.allowed ? `resolves to ${first.address} (${first.reason})` : 'no address';
          return callback(new SsrfBlockedError(hostname, reason), options.all ? [] : '', undefined);
        }
        if (options.all) return callback(null, allowed);
        callback(null, allowed[0].address, allowed[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, options.all ? [] : '', undefined),
    );
  };
}

export interface GuardedAgentOptions {
  resolve?: Resolver;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connections?: number;
}

/**
 * The undici 7 dispatcher every outbound request (webhooks, Zapier hooks, CRM) goes through.
 * IP-literal hosts never reach a resolver (net.connect skips lookup for them), so the connector
 * checks those itself; names go through guardedLookup. Redirects are never followed by undici's
 * `request` (no redirect interceptor is composed here).
 */
export function createGuardedAgent(policy: OutboundAddressPolicy, opts: GuardedAgentOptions = {}): Agent {
  const connector = buildConnector({
    timeout: opts.connectTimeoutMs ?? 10_000,
    lookup: guardedLookup(policy, opts.resolve) as unknown as typeof dns.lookup,
  });
  const connect: buildConnector.connector = (options, callback) => {
    const host = options.hostname;
    const literal = parseIpHost(host);
    if (literal || net.isIP(host.replace(/^\[|\]$/g, ''))) {
      const verdict = policy.check(host);
      if (!verdict.allowed) {
        callback(new SsrfBlockedError(host, `${verdict.address} is ${verdict.reason}`), null);
        return;
      }
    }
    connector(options, callback);
  };
  return new Agent({
    connect,
    headersTimeout: opts.headersTimeoutMs ?? 15_000,
    bodyTimeout: opts.bodyTimeoutMs ?? 15_000,
    connections: opts.connections ?? 64,
    keepAliveTimeout: 4_000,
  });
}
