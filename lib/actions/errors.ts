/** A target stands for more items than one action may touch; refused whole, nothing done. */
export class TooManyTargetsError extends Error {
  override name = 'TooManyTargetsError';
}
