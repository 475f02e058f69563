import { SOURCE_DECLARATIONS } from './declarations.ts';
import type { InboundDelivery, SourceName, SourceSecrets } from './types.ts';

/**
 * Checks that a delivery was sent by a holder of its source's secret, any source (a function
 * checks only its own sources', through lib/sources/receive.ts); throws
 * `SourceAuthenticationError` otherwise. Every comparison is constant time.
 */
export function authenticateDelivery<S extends SourceName>(
  delivery: InboundDelivery & { source: S },
  secret: SourceSecrets[S],
): void {
  // The lookup cannot tie the declaration's secret type to `delivery.source`: restated here.
  const { authenticate } = SOURCE_DECLARATIONS[delivery.source] as unknown as {
    authenticate: (delivery: InboundDelivery, secret: SourceSecrets[S]) => void;
  };
  authenticate(delivery, secret);
}
