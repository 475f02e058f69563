import ipaddr from 'ipaddr.js';
import * as z from 'zod';

/**
 * The client address a DaaS session was opened from (`Client.IPAddress`), and ranges of them: an
 * address (`203.0.113.24`) or a CIDR range (`203.0.113.0/24`), IPv4 or IPv6. Parsing is
 * ipaddr.js's; a range's host bits must be zero, so that `10.0.0.7/8` is refused, not guessed.
 */
export interface AddressRange {
  readonly text: string;
  contains(address: string): boolean;
  /** The widest IPv4 text prefix every address in the range starts with (`203.0.113.`), or ''. */
  readonly ipv4Prefix: string;
}

function parseRange(text: string): AddressRange | undefined {
  try {
    const [address, bits] = text.includes('/')
      ? ipaddr.parseCIDR(text)
      : (() => {
          const parsed = ipaddr.parse(text);
          return [parsed, parsed.kind() === 'ipv4' ? 32 : 128] as const;
        })();
    const network = ipaddr.parse(
      address.kind() === 'ipv4'
        ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${bits}`).toString()
        : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${bits}`).toString(),
    );
    if (network.toString() !== address.toString()) return undefined;
    const octets = address.kind() === 'ipv4' ? Math.floor(bits / 8) : 0;
    const ipv4Prefix =
      address.kind() === 'ipv4' && octets > 0
        ? `${address.toString().split('.').slice(0, octets).join('.')}${octets < 4 ? '.' : ''}`
        : '';
    return {
      text:
        bits === (address.kind() === 'ipv4' ? 32 : 128)
          ? address.toString()
          : `${address.toString()}/${bits}`,
      ipv4Prefix,
      contains(candidate: string) {
        if (!ipaddr.isValid(candidate)) return false;
        let parsed = ipaddr.parse(candidate);
        // An IPv4 client seen through an IPv6 socket (::ffff:203.0.113.24) is the same client.
        if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
          parsed = (parsed as ipaddr.IPv6).toIPv4Address();
        }
        return parsed.kind() === address.kind() && parsed.match(address, bits);
      },
    };
  } catch {
    return undefined;
  }
}

/** An address or a CIDR range, normalized (`203.0.113.0/24`, `2001:db8::/32`). */
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
