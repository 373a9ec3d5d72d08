/**
 * Exact decimal handling for provider figures. Providers send money and counts as decimal
 * strings ("1234.56", "0.000001", sometimes "1.5E-4"); parsing them through a JS number would
 * round, so they are parsed by hand into scaled BigInts. Ratios (CTR, CPC…) are derived from
 * exact sums and only then become floating point.
 */

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export class DecimalParseError extends Error {
  constructor(value: unknown) {
    super(`Not a decimal number: ${JSON.stringify(value)?.slice(0, 40)}`);
    this.name = 'DecimalParseError';
  }
}

/**
 * Parses a decimal string (or a JSON number) into an integer scaled by 10^scale, rounding half
 * away from zero past the last kept digit. `null`, `undefined` and `""` are zero (providers omit
 * metrics that did not happen). Anything else that is not a decimal throws.
 */
export function parseScaled(value: string | number | null | undefined, scale: number): bigint {
  if (value === null || value === undefined) return 0n;
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DecimalParseError(value);
    // The shortest string that round-trips: exact for what JSON.parse produced from the wire.
    text = String(value);
  } else {
    text = value.trim();
  }
  if (text === '') return 0n;
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new DecimalParseError(value);
  const negative = m[1] === '-';
  let intPart = m[2] || '0';
  let frac = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exp) > 400) throw new DecimalParseError(value);
  // Move the decimal point by the exponent.
  if (exp > 0) {
    const shift = frac.slice(0, exp).padEnd(exp, '0');
    intPart += shift;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const digits = intPart.padStart(-exp + 1, '0');
    frac = digits.slice(digits.length + exp) + frac;
    intPart = digits.slice(0, digits.length + exp);
  }
  const kept = frac.slice(0, scale).padEnd(scale, '0');
  const next = frac.charCodeAt(scale) - 48; // first dropped digit (NaN when none)
  let scaled = BigInt(intPart + kept);
  if (next >= 5) scaled += 1n;
  return negative ? -scaled : scaled;
}

/** Decimal string → micros (10^-6 units). */
export const toMicros = (value: string | number | null | undefined): bigint => parseScaled(value, 6);

/** A non-negative decimal count that must be whole (impressions, clicks, sessions). */
export function toCount(value: string | number | null | undefined): number {
  const scaled = parseScaled(value, 0);
  const n = Number(scaled);
  if (!Number.isSafeInteger(n)) throw new DecimalParseError(value);
  return n;
}

/** Formats a scaled integer back as a plain decimal string ("12.500000" for 12500000n, 6). */
export function formatScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${int}${scale ? `.${frac}` : ''}`;
}

/** Divides with rounding half away from zero. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (n * 2n + d) / (2n * d);
  return negative ? -q : q;
}

const exponentCache = new Map<string, number>();

/** Minor-unit exponent of an ISO 4217 currency (USD 2, JPY 0, KWD 3), from the runtime's ICU data. */
export function currencyExponent(currency: string): number {
  let exp = exponentCache.get(currency);
  if (exp === undefined) {
    try {
      exp = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      exp = 2;
    }
    exponentCache.set(currency, exp);
  }
  return exp;
}

/** Micros → integer minor units of the currency (cents for USD), rounded half away from zero. */
export function microsToMinor(micros: bigint, currency: string): bigint {
  return divRound(micros, 10n ** BigInt(6 - currencyExponent(currency)));
}

/** Minor units → micros (exact). */
export function minorToMicros(minor: bigint, currency: string): bigint {
  return minor * 10n ** BigInt(6 - currencyExponent(currency));
}

/** A BigInt that must fit a JSON number exactly. */
export function toSafeNumber(value: bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`value ${value} exceeds the exact integer range of JSON numbers`);
  return n;
}

/** Exchange rates "units of the reporting currency per 1 unit of X", kept as exact decimals. */
export interface FxTable {
  reportingCurrency: string;
  /** currency → rate scaled by 10^RATE_SCALE */
  rates: Map<string, bigint>;
  /** The rates as configured, for the response's disclosure. */
  display: Record<string, string>;
}

export const RATE_SCALE = 12;

export function parseFxTable(reportingCurrency: string | undefined, spec: string | undefined): FxTable | null {
  if (!reportingCurrency) return null;
  const rates = new Map<string, bigint>([[reportingCurrency, 10n ** BigInt(RATE_SCALE)]]);
  const display: Record<string, string> = {};
  for (const part of (spec ?? '').split(',')) {
    const [cur, rate] = part.split('=').map((s) => s.trim());
    if (!cur || !rate) continue;
    rates.set(cur, parseScaled(rate, RATE_SCALE));
    display[cur] = rate;
  }
  return { reportingCurrency, rates, display };
}

/** Converts micros of `currency` to micros of the table's reporting currency; null when no rate. */
export function convertMicros(micros: bigint, currency: string, fx: FxTable): bigint | null {
  const rate = fx.rates.get(currency);
  if (rate === undefined) return null;
  return divRound(micros * rate, 10n ** BigInt(RATE_SCALE));
}
