import { describe, expect, it } from 'vitest';
import {
  DecimalParseError,
  convertMicros,
  currencyExponent,
  divRound,
  formatScaled,
  microsToMinor,
  parseFxTable,
  parseScaled,
  toCount,
  toMicros,
} from './money';

describe('exact decimal parsing', () => {
  it('parses provider strings into micros without float rounding', () => {
    expect(toMicros('1234.56')).toBe(1_234_560_000n);
    expect(toMicros('0.1')).toBe(100_000n);
    expect(toMicros('0.000001')).toBe(1n);
    expect(toMicros('12')).toBe(12_000_000n);
    expect(toMicros('.5')).toBe(500_000n);
    expect(toMicros('-3.25')).toBe(-3_250_000n);
    expect(toMicros(' 7.5 ')).toBe(7_500_000n);
    // 0.1 + 0.2 style drift cannot happen: summing micros is integer arithmetic.
    expect(toMicros('0.1') + toMicros('0.2')).toBe(toMicros('0.3'));
    // Beyond float precision: 17 significant digits survive exactly.
    expect(toMicros('90071992547.409931')).toBe(90_071_992_547_409_931n);
  });

  it('rounds half away from zero past the sixth decimal', () => {
    expect(toMicros('0.0000005')).toBe(1n);
    expect(toMicros('0.00000049')).toBe(0n);
    expect(toMicros('-0.0000005')).toBe(-1n);
    expect(toMicros('1.9999995')).toBe(2_000_000n);
  });

  it('accepts exponent notation and JSON numbers', () => {
    expect(toMicros('1.5E-4')).toBe(150n);
    expect(toMicros('2e3')).toBe(2_000_000_000n);
    expect(toMicros('123.45e-2')).toBe(1_234_500n);
    expect(toMicros(12.34)).toBe(12_340_000n);
    expect(toMicros(0.1)).toBe(100_000n);
  });

  it('treats missing values as zero and rejects garbage', () => {
    expect(toMicros(undefined)).toBe(0n);
    expect(toMicros(null)).toBe(0n);
    expect(toMicros('')).toBe(0n);
    for (const bad of ['abc', '1,5', '1.2.3', '.', '-', 'NaN', '0x10', '1e'])
      expect(() => toMicros(bad)).toThrow(DecimalParseError);
    expect(() => toMicros(Number.NaN)).toThrow(DecimalParseError);
  });

  it('parses whole counts', () => {
    expect(toCount('1024')).toBe(1024);
    expect(toCount('0')).toBe(0);
    expect(() => toCount('99999999999999999999')).toThrow(DecimalParseError);
  });

  it('formats scaled integers back to decimal strings', () => {
    expect(formatScaled(12_500_000n, 6)).toBe('12.500000');
    expect(formatScaled(5n, 6)).toBe('0.000005');
    expect(formatScaled(-1_500_000n, 6)).toBe('-1.500000');
    expect(formatScaled(42n, 0)).toBe('42');
    expect(formatScaled(parseScaled('3.75', 6), 6)).toBe('3.750000');
  });
});

describe('minor units and conversion', () => {
  it('knows currency exponents', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('EUR')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
  });

  it('converts micros to minor units with half-up rounding', () => {
    expect(microsToMinor(1_234_560_000n, 'USD')).toBe(123_456n);
    expect(microsToMinor(5_000n, 'USD')).toBe(1n); // 0.005 USD → 1 cent
    expect(microsToMinor(4_999n, 'USD')).toBe(0n);
    expect(microsToMinor(1_500_000n, 'JPY')).toBe(2n);
    expect(microsToMinor(1_234_567n, 'KWD')).toBe(1_235n);
  });

  it('divides with symmetric rounding', () => {
    expect(divRound(5n, 2n)).toBe(3n);
    expect(divRound(-5n, 2n)).toBe(-3n);
    expect(divRound(4n, 3n)).toBe(1n);
    expect(() => divRound(1n, 0n)).toThrow(RangeError);
  });

  it('converts with a configured rate table and refuses unknown currencies', () => {
    const fx = parseFxTable('USD', 'EUR=1.08, GBP=1.2745')!;
    expect(fx.display).toEqual({ EUR: '1.08', GBP: '1.2745' });
    expect(convertMicros(10_000_000n, 'EUR', fx)).toBe(10_800_000n);
    expect(convertMicros(1_000_000n, 'GBP', fx)).toBe(1_274_500n);
    expect(convertMicros(3_000_000n, 'USD', fx)).toBe(3_000_000n);
    expect(convertMicros(1n, 'JPY', fx)).toBeNull();
    expect(parseFxTable(undefined, 'EUR=1')).toBeNull();
  });
});
