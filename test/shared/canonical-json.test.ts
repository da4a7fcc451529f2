import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/canonical/index.ts';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts members by UTF-16 code units (the RFC 8785 §3.2.3 example)', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ) as unknown;
    // Read the values in text order (JSON.parse would put the integer-like key "1" first).
    expect([...canonicalJson(input).matchAll(/:"([^"]*)"/g)].map((m) => m[1])).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
  });

  it('serializes numbers, literals and escapes as RFC 8785 (the §3.2.2 example)', () => {
    const input = {
      numbers: [333333333.3333333, 1e30, 4.5, 0.002, 1e-27],
      string: '€$\u000f\nA\'B"\\\\"/',
      literals: [null, true, false],
    };
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('writes -0, NaN and the infinities as JSON.stringify does, and sorts members whether given sorted or not', () => {
    const value = { n: [-0, NaN, Infinity, -Infinity, 1e21, 5e-7], t: true, f: false };
    expect(canonicalJson(value)).toBe('{"f":false,"n":[0,null,null,null,1e+21,5e-7],"t":true}');
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe('{"a":1,"b":{"c":2,"d":3}}');
    expect(canonicalJson({ b: { d: 3, c: 2 }, a: 1 })).toBe('{"a":1,"b":{"c":2,"d":3}}');
    expect(canonicalJson({ a: 1, c: 3, b: 2 })).toBe('{"a":1,"b":2,"c":3}');
  });

  it('gives the bytes the image identity always had: sorted JSON.stringify, undefined dropped', () => {
    const value = { b: [1, undefined, { z: 'x', a: undefined }], a: 'é\ud800', c: { y: null, x: [true] } };
    const old = JSON.stringify(value, (_k, v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, (v as Record<string, unknown>)[k]]),
          )
        : v,
    );
    expect(canonicalJson(value)).toBe(old);
  });

  it('with wellFormed, writes NUL and lone surrogates as U+FFFD (as every output sends them)', () => {
    expect(canonicalJson({ a: 'x\u0000y\ud800z\udc00', '\u0000k': 1 }, { wellFormed: true })).toBe(
      '{"\uFFFDk":1,"a":"x\uFFFDy\uFFFDz\uFFFD"}',
    );
  });
});
