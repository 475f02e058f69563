import { BlockList, isIPv4, isIPv6 } from 'node:net';
import * as z from 'zod';

/**
 * The client address a DaaS session was opened from (`Client.IPAddress`), and ranges of them: an
 * address (`203.0.113.24`) or a CIDR range (`203.0.113.0/24`), IPv4 or IPv6. Containment is Node's
 * own `net.BlockList` (no library in the bundle). An IPv4 range's host bits must be zero, so that
 * `10.0.0.7/8` is refused rather than guessed at.
 */
export interface AddressRange {
  readonly text: string;
  contains(address: string): boolean;
  /** The widest IPv4 text prefix every address in the range starts with (`203.0.113.`), or ''. */
  readonly ipv4Prefix: string;
}

const ipv4Number = (address: string) =>
  address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);

/** A canonical IPv6 address (`2001:db8::1`) as a number. */
function ipv6Number(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const groups = (text: string | undefined) => (text ? text.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((value, group) => value * 65536n + BigInt(`0x${group}`), 0n);
}

function parseRange(text: string): AddressRange | undefined {
  const [address = '', bitsText, ...rest] = text.split('/');
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined || rest.length > 0) return undefined;
  const width = family === 'ipv4' ? 32 : 128;
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (bits > width) return undefined;
  let ipv4Prefix = '';
  let canonical = address;
  if (family === 'ipv6') {
    // The URL parser writes IPv6 in its canonical, compressed form.
    canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
    if (ipv6Number(canonical) % 2n ** BigInt(128 - bits) !== 0n) return undefined;
  }
  if (family === 'ipv4') {
    const hostBits = 32 - bits;
    if (hostBits > 0 && ipv4Number(address) % 2 ** hostBits !== 0) return undefined;
    const octets = Math.floor(bits / 8);
    ipv4Prefix =
      octets === 0
        ? ''
        : `${address.split('.').slice(0, octets).join('.')}${octets < 4 ? '.' : ''}`;
  }
  const list = new BlockList();
  list.addSubnet(canonical, bits, family);
  return {
    text: bits === width ? canonical : `${canonical}/${bits}`,
    ipv4Prefix,
    contains(candidate: string) {
      // An IPv4 client seen through an IPv6 socket (::ffff:203.0.113.24) is the same client.
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(candidate)?.[1];
      const plain = mapped ?? candidate;
      const kind = isIPv4(plain) ? 'ipv4' : isIPv6(plain) ? 'ipv6' : undefined;
      return kind === family && list.check(plain, kind);
    },
  };
}

/** An address or a CIDR range (`203.0.113.0/24`, `2001:db8::/32`). */
export const ClientAddressSchema = z
  .string()
  .trim()
  .max(64, 'must be at most 64 characters')
  .refine((value) => parseRange(value) !== undefined, {
    message: 'must be an IP address or a CIDR range with its host bits zero (203.0.113.0/24)',
  })
  .transform((value) => parseRange(value)?.text ?? value);

/** The range a validated `ClientAddressSchema` value stands for. */
export function addressRange(text: string): AddressRange {
  const range = parseRange(text);
  if (range === undefined) throw new TypeError(`Not an address or CIDR range: ${text}`);
  return range;
}
