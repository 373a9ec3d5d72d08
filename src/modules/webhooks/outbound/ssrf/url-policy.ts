import dns from 'node:dns';
import { DomainError } from '../../../../common/errors/domain-error';
import { parseIpHost, type OutboundAddressPolicy } from './address-policy';

export type LookupAll = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemLookupAll: LookupAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Static checks of an outbound URL (no network): http(s) only, no credentials, a host that is
 * not a blocked IP in any spelling. The WHATWG parser already canonicalises numeric hosts
 * (`http://2130706433/` → `127.0.0.1`); parseIpHost catches what it leaves.
 */
export function checkOutboundUrlSyntax(raw: string, policy: OutboundAddressPolicy): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'must use http or https' };
  if (url.username || url.password) return { ok: false, reason: 'must not contain credentials' };
  if (!url.hostname) return { ok: false, reason: 'must have a host' };
  if (raw.length > 2048) return { ok: false, reason: 'must be at most 2048 characters' };
  const host = url.hostname;
  if (parseIpHost(host)) {
    const verdict = policy.check(host);
    if (!verdict.allowed) return { ok: false, reason: `points to a blocked address (${verdict.address}: ${verdict.reason})` };
  }
  return { ok: true, url };
}

/**
 * Save-time check: the static checks plus a DNS resolution of the host; a name that resolves
 * only to blocked addresses is refused. A name that does not resolve (yet) is accepted: the
 * connect-time filter re-checks every address actually connected to, so rebinding cannot win.
 */
export async function validateOutboundUrl(
  raw: string,
  policy: OutboundAddressPolicy,
  opts: { lookup?: LookupAll; field?: string; timeoutMs?: number } = {},
): Promise<URL> {
  const field = opts.field ?? 'url';
  const fail = (reason: string) =>
    new DomainError('validation_failed', `The ${field} ${reason}`, [{ path: field, message: `URL ${reason}`, code: 'ssrf' }]);
  const verdict = checkOutboundUrlSyntax(raw, policy);
  if (!verdict.ok) throw fail(verdict.reason);
  const host = verdict.url.hostname;
  if (parseIpHost(host)) return verdict.url;
  const lookup = opts.lookup ?? systemLookupAll;
  let addresses: Array<{ address: string }> | undefined;
  try {
    addresses = await Promise.race([
      lookup(host),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), opts.timeoutMs ?? 2000).unref()),
    ]);
  } catch {
    addresses = undefined;
  }
  if (addresses?.length) {
    const verdicts = addresses.map((a) => policy.check(a.address));
    if (verdicts.every((v) => !v.allowed)) {
      const first = verdicts[0] as { address: string; reason: string };
      throw fail(`resolves to a blocked address (${first.address}: ${first.reason})`);
    }
  }
  return verdict.url;
}
