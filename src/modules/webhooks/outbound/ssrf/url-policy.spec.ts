import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../../common/errors/domain-error';
import { OutboundAddressPolicy } from './address-policy';
import { checkOutboundUrlSyntax, validateOutboundUrl, type LookupAll } from './url-policy';

const policy = new OutboundAddressPolicy();
const publicLookup: LookupAll = async () => [{ address: '93.184.215.14', family: 4 }];

describe('outbound URL validation (save time)', () => {
  it.each([
    'http://169.254.169.254/',
    'http://169.254.169.254/latest/meta-data/',
    'http://127.0.0.1:6379',
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]:8080/',
    'http://10.0.0.1/',
    'http://100.64.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://0x7f000001/',
    'http://127.1/',
    'http://0/',
    'http://0.0.0.0:3000/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://224.0.0.1/',
    'https://１２７.０.０.１/',
  ])('row 15: refuses %s', async (url) => {
    expect(checkOutboundUrlSyntax(url, policy).ok).toBe(false);
    await expect(validateOutboundUrl(url, policy, { lookup: publicLookup })).rejects.toBeInstanceOf(DomainError);
  });

  it.each([
    ['ftp://example.com/', 'http or https'],
    ['file:///etc/passwd', 'http or https'],
    ['gopher://example.com/', 'http or https'],
    ['http://user:pass@example.com/', 'credentials'],
    ['http://user@example.com/', 'credentials'],
    ['not a url', 'valid absolute URL'],
    ['/relative', 'valid absolute URL'],
  ])('refuses %s (%s)', async (url, why) => {
    const err = await validateOutboundUrl(url, policy, { lookup: publicLookup }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('validation_failed');
    expect((err as DomainError).message).toContain(why);
    expect((err as DomainError).errors?.[0].path).toBe('url');
  });

  it('row 16: refuses a DNS name that resolves only to private addresses', async () => {
    const privateLookup: LookupAll = async () => [
      { address: '10.1.2.3', family: 4 },
      { address: '::1', family: 6 },
    ];
    await expect(validateOutboundUrl('https://internal.example.com/hook', policy, { lookup: privateLookup })).rejects.toThrow(
      /resolves to a blocked address/,
    );
  });

  it('accepts a public name, and a name that does not resolve yet (the connect-time filter still applies)', async () => {
    await expect(
      validateOutboundUrl('https://hooks.example.com/x?y=1', policy, { lookup: publicLookup }),
    ).resolves.toBeInstanceOf(URL);
    const failing: LookupAll = async () => {
      throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(validateOutboundUrl('https://not-yet.example.com/', policy, { lookup: failing })).resolves.toBeInstanceOf(URL);
  });

  it('OUTBOUND_ALLOW_CIDRS lets the tests reach 127.0.0.1 and nothing else', async () => {
    const allowLocal = new OutboundAddressPolicy(['127.0.0.1/32']);
    await expect(validateOutboundUrl('http://127.0.0.1:4010/hook', allowLocal)).resolves.toBeInstanceOf(URL);
    await expect(validateOutboundUrl('http://127.0.0.2/hook', allowLocal)).rejects.toThrow(DomainError);
    await expect(validateOutboundUrl('http://169.254.169.254/', allowLocal)).rejects.toThrow(DomainError);
  });

  it('names a custom field in the error', async () => {
    const err = (await validateOutboundUrl('http://10.0.0.1/', policy, { field: 'target_url' }).catch(
      (e: unknown) => e,
    )) as DomainError;
    expect(err.errors?.[0].path).toBe('target_url');
  });
});
