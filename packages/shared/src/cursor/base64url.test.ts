/// <reference types="node" />
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';

describe('base64url', () => {
  it('matches the standard unpadded encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(decodeBase64Url(text)).toEqual(bytes);
      }),
    );
  });

  it('refuses padding, foreign characters, impossible lengths and non-zero trailing bits', () => {
    expect(decodeBase64Url('QQ')).toEqual(new Uint8Array([0x41]));
    expect(decodeBase64Url('QUI')).toEqual(new Uint8Array([0x41, 0x42]));
    for (const bad of ['QQ==', 'QR', 'QUJ', 'Q', 'QQ+', 'Q/Q', 'QQ Q', 'QQ.']) {
      expect(decodeBase64Url(bad), bad).toBeNull();
    }
  });

  it('has exactly one text form per byte string', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(
            ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
          ),
          maxLength: 16,
        }),
        (text) => {
          const bytes = decodeBase64Url(text);
          if (bytes !== null) expect(encodeBase64Url(bytes)).toBe(text);
        },
      ),
    );
  });
});
