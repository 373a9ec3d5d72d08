import net from 'node:net';
// ipaddr.js (also what Fastify's proxy-addr uses) classifies addresses into IANA special ranges
// and parses every IPv4 spelling inet_aton accepts (decimal, hex, octal, short forms).
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

export type AddressVerdict = { allowed: true; address: string } | { allowed: false; address: string; reason: string };

/**
 * Parses a host as an IP address, accepting every spelling a resolver or a URL parser could turn
 * into one: `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, `[::ffff:127.0.0.1]`, `fe80::1%eth0`.
 * Returns undefined for a DNS name.
 */
export function parseIpHost(host: string): Address | undefined {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const zone = h.indexOf('%');
  if (zone !== -1 && h.includes(':')) h = h.slice(0, zone);
  if (net.isIP(h)) return ipaddr.parse(h);
  // Non-canonical IPv4 spellings (what inet_aton and the WHATWG URL parser accept).
  if (/^[0-9a-fA-Fx.]+$/.test(h) && ipaddr.IPv4.isValid(h)) return ipaddr.IPv4.parse(h);
  return undefined;
}

/** `10.0.0.0/8`, `::1/128`, or a bare address (a /32 or /128). Throws on anything else. */
export function parseCidr(value: string): Cidr {
  const v = value.trim();
  if (v.includes('/')) {
    const [addr, bits] = ipaddr.parseCIDR(v);
    return [addr, bits];
  }
  if (!net.isIP(v)) throw new Error(`not an IP address or CIDR: ${value}`);
  const addr = ipaddr.parse(v);
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

export function isValidCidr(value: string): boolean {
  try {
    parseCidr(value);
    return true;
  } catch {
    return false;
  }
}

/** IPv4 embedded in an IPv6 address by a translation or tunnelling scheme, checked as itself. */
function embeddedIpv4(addr: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = addr.range();
  const p = addr.parts;
  if (range === 'ipv4Mapped' || range === 'rfc6145')
    return ipaddr.IPv4.parse(`${p[6] >> 8}.${p[6] & 255}.${p[7] >> 8}.${p[7] & 255}`);
  if (range === 'rfc6052') return ipaddr.IPv4.parse(`${p[6] >> 8}.${p[6] & 255}.${p[7] >> 8}.${p[7] & 255}`);
  if (range === '6to4') return ipaddr.IPv4.parse(`${p[1] >> 8}.${p[1] & 255}.${p[2] >> 8}.${p[2] & 255}`);
  // Deprecated IPv4-compatible form ::a.b.c.d (ipaddr.js calls it unicast): treat as the IPv4.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7] > 1)) {
    return ipaddr.IPv4.parse(`${p[6] >> 8}.${p[6] & 255}.${p[7] >> 8}.${p[7] & 255}`);
  }
  return undefined;
}

/**
 * Decides whether Switchboard may open a connection to an address. Only global unicast is
 * allowed: loopback, RFC 1918, link-local (cloud metadata 169.254.169.254), CGNAT 100.64/10,
 * 0.0.0.0/8, multicast, broadcast, reserved/documentation/benchmarking ranges, IPv6 loopback,
 * ULA, link-local, site-local, discard, Teredo, and every IPv6 form that embeds a blocked IPv4
 * (mapped, NAT64, 6to4, compatible) are refused — unless an operator allowed a range explicitly
 * with OUTBOUND_ALLOW_CIDRS (the tests allow 127.0.0.1/32 to reach local receivers).
 */
export class OutboundAddressPolicy {
  private readonly allowList: Cidr[];

  constructor(allowCidrs: readonly string[] = []) {
    this.allowList = allowCidrs.map(parseCidr);
  }

  private explicitlyAllowed(addr: Address): boolean {
    return this.allowList.some(([range, bits]) => addr.kind() === range.kind() && addr.match(range, bits));
  }

  check(host: string): AddressVerdict {
    const addr = parseIpHost(host);
    if (!addr) return { allowed: false, address: host, reason: 'not an IP address' };
    const address = addr.toString();
    if (this.explicitlyAllowed(addr)) return { allowed: true, address };
    if (addr.kind() === 'ipv6') {
      const v6 = addr as ipaddr.IPv6;
      const v4 = embeddedIpv4(v6);
      if (v4) {
        if (this.explicitlyAllowed(v4)) return { allowed: true, address };
        const inner = this.classify(v4);
        return inner ? { allowed: false, address, reason: `embeds ${v4.toString()} (${inner})` } : { allowed: true, address };
      }
    }
    const reason = this.classify(addr);
    return reason ? { allowed: false, address, reason } : { allowed: true, address };
  }

  /** The blocked range an address falls in, or undefined for global unicast. */
  private classify(addr: Address): string | undefined {
    const range = addr.range();
    if (range === 'unicast') return undefined;
    return range;
  }
}
