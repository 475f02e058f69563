import { describe, expect, it } from 'vitest';
import { addressRange, ClientAddressSchema } from '../../../lib/citrix/client-address.ts';

describe('ClientAddressSchema', () => {
  it('accepts an address or a CIDR range and normalizes it', () => {
    expect(ClientAddressSchema.parse(' 203.0.113.24 ')).toBe('203.0.113.24');
    expect(ClientAddressSchema.parse('203.0.113.0/24')).toBe('203.0.113.0/24');
    expect(ClientAddressSchema.parse('10.16.0.0/12')).toBe('10.16.0.0/12');
    expect(ClientAddressSchema.parse('203.0.113.24/32')).toBe('203.0.113.24');
  });

  it('normalizes IPv6 and refuses an IPv6 range with host bits set', () => {
    expect(ClientAddressSchema.parse('2001:DB8:0:0::/32')).toBe('2001:db8::/32');
    expect(ClientAddressSchema.parse('2001:db8::1')).toBe('2001:db8::1');
    expect(ClientAddressSchema.safeParse('2001:db8::1/32').success).toBe(false);
  });

  it('refuses a range with host bits set, rather than guessing which network was meant', () => {
    for (const text of ['10.0.0.7/8', '203.0.113.1/24', '10.17.0.0/12']) {
      const parsed = ClientAddressSchema.safeParse(text);
      expect(parsed.success, text).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/host bits zero/);
    }
  });

  it('refuses what is not an address', () => {
    for (const text of [
      '',
      'example.com',
      '300.1.1.1',
      '10.0.0.0/33',
      '10.0.0.0/',
      'x'.repeat(65),
    ]) {
      expect(ClientAddressSchema.safeParse(text).success, text).toBe(false);
    }
    expect(() => addressRange('not an address')).toThrow(TypeError);
  });
});

describe('addressRange', () => {
  it('contains exactly the addresses of a non-octet range such as 10.16.0.0/12', () => {
    const range = addressRange('10.16.0.0/12');
    expect(range.contains('10.16.0.0')).toBe(true);
    expect(range.contains('10.20.3.4')).toBe(true);
    expect(range.contains('10.31.255.255')).toBe(true);
    expect(range.contains('10.15.255.255')).toBe(false);
    expect(range.contains('10.32.0.0')).toBe(false);
    // The text prefix would match these; the range does not.
    expect(range.contains('10.160.0.1')).toBe(false);
    expect(range.ipv4Prefix).toBe('10.');
  });

  it('gives the widest whole-octet text prefix of a range', () => {
    expect(addressRange('203.0.113.0/24').ipv4Prefix).toBe('203.0.113.');
    expect(addressRange('203.0.0.0/16').ipv4Prefix).toBe('203.0.');
    expect(addressRange('203.0.113.24').ipv4Prefix).toBe('203.0.113.24');
    expect(addressRange('0.0.0.0/0').ipv4Prefix).toBe('');
    expect(addressRange('2001:db8::/32').ipv4Prefix).toBe('');
  });

  it('treats an IPv4-mapped IPv6 client as the IPv4 client it is', () => {
    const range = addressRange('203.0.113.0/24');
    expect(range.contains('::ffff:203.0.113.24')).toBe(true);
    expect(range.contains('::ffff:198.51.100.1')).toBe(false);
    expect(addressRange('203.0.113.24').contains('::ffff:203.0.113.24')).toBe(true);
  });

  it('never matches across families or on unreadable addresses', () => {
    expect(addressRange('203.0.113.0/24').contains('2001:db8::1')).toBe(false);
    expect(addressRange('2001:db8::/32').contains('2001:db8:1::5')).toBe(true);
    expect(addressRange('2001:db8::/32').contains('2001:db9::5')).toBe(false);
    expect(addressRange('2001:db8::/32').contains('203.0.113.1')).toBe(false);
    expect(addressRange('203.0.113.0/24').contains('')).toBe(false);
    expect(addressRange('203.0.113.0/24').contains('203.0.113')).toBe(false);
  });
});
