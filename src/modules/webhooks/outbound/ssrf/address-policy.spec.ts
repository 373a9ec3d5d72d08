import { describe, expect, it } from 'vitest';
import { OutboundAddressPolicy, isValidCidr, parseCidr, parseIpHost } from './address-policy';

const policy = new OutboundAddressPolicy();

describe('OutboundAddressPolicy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['[::1]', 'loopback'],
  ])('row 15: blocks %s (%s)', (host, range) => {
    const v = policy.check(host);
    expect(v.allowed).toBe(false);
    expect(v.allowed === false && v.reason).toContain(range);
  });

  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['[::ffff:127.0.0.1]', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['::ffff:a9fe:a9fe', '169.254.169.254'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['64:ff9b::a00:1', '10.0.0.1'],
    ['2002:7f00:1::1', '127.0.0.1'],
    ['::7f00:1', '127.0.0.1'],
  ])('row 15: blocks IPv6 %s that embeds %s', (host, inner) => {
    const v = policy.check(host);
    expect(v.allowed).toBe(false);
    expect(v.allowed === false && v.reason).toContain(inner);
  });

  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['012.0.0.1', '10.0.0.1'],
  ])('row 15: reads the non-canonical IPv4 spelling %s as %s and blocks it', (host, canonical) => {
    expect(parseIpHost(host)?.toString()).toBe(canonical);
    expect(policy.check(host).allowed).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::1'])(
    'allows the global unicast address %s',
    (host) => {
      expect(policy.check(host).allowed).toBe(true);
    },
  );

  it('treats DNS names as not-an-address (they are checked after resolution)', () => {
    expect(parseIpHost('example.com')).toBeUndefined();
    expect(parseIpHost('cafe')).toBeUndefined();
    expect(policy.check('example.com').allowed).toBe(false);
  });

  it('OUTBOUND_ALLOW_CIDRS allows exactly the listed ranges', () => {
    const p = new OutboundAddressPolicy(['127.0.0.1/32', '10.20.0.0/16', 'fd00::/8', '192.168.1.7']);
    expect(p.check('127.0.0.1').allowed).toBe(true);
    expect(p.check('2130706433').allowed).toBe(true);
    expect(p.check('::ffff:127.0.0.1').allowed).toBe(true);
    expect(p.check('127.0.0.2').allowed).toBe(false);
    expect(p.check('10.20.3.4').allowed).toBe(true);
    expect(p.check('10.21.0.1').allowed).toBe(false);
    expect(p.check('fd00::5').allowed).toBe(true);
    expect(p.check('fc00::5').allowed).toBe(false);
    expect(p.check('192.168.1.7').allowed).toBe(true);
    expect(p.check('192.168.1.8').allowed).toBe(false);
    expect(p.check('169.254.169.254').allowed).toBe(false);
  });

  it('validates CIDR lists (config)', () => {
    expect(isValidCidr('127.0.0.1/32')).toBe(true);
    expect(isValidCidr('::1')).toBe(true);
    expect(isValidCidr('10.0.0.0/33')).toBe(false);
    expect(isValidCidr('localhost')).toBe(false);
    expect(isValidCidr('0x7f.1')).toBe(false);
    expect(() => parseCidr('nope')).toThrow();
  });
});
